"""folder64 round 5 prototype: train.py with a resize-convolution DCGAN generator patched in.

Each of the generator's stride-2 transposed convolutions becomes an upsampling
(x2) followed by a 3x3 convolution (Odena et al. 2016, "Deconvolution and
Checkerboard Artifacts"); the discriminator is unchanged. Measured, not
adopted (BENCHMARKS.md "folder64 / Round 5"), so it stays a benchmark
prototype rather than a flag.

    KG_UPSAMPLE=nearest KG_G_WIDTH=16 taskset -c 0 python benchmarks/preset_tuning/r5_resize_conv_generator.py \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter --epochs=30 ...

Environment: KG_UPSAMPLE (nearest | bilinear; default nearest), KG_G_WIDTH (the generator's
base width; default --width), KG_RESIZE_LAST (round 9: only the last N upsamplings become
resize-convolutions, the others stay the DCGAN's transposed convolutions; default: all).
"""

import math
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402

from keras_gans.networks import dcgan as networks  # noqa: E402


def project_latent(z, filters):
    """The DCGAN generator's stem: a Dense projection of the latent to 4x4xfilters, BatchNorm, ReLU."""
    x = keras.layers.Dense(4 * 4 * filters, use_bias=False, kernel_initializer=networks.conv_init(), name="project")(z)
    x = keras.layers.Reshape((4, 4, filters))(x)
    x = networks._batch_norm("project_bn")(x)
    return keras.layers.ReLU()(x)


def to_image(x, image_shape, interpolation="nearest"):
    """The resize-convolution output layer (x2, 3x3 conv to the image's channels, tanh), cropped to the image."""
    height, width_px, channels = networks._check_image_shape(image_shape)
    canvas = networks.canvas_size(image_shape)
    x = keras.layers.UpSampling2D(2, interpolation=interpolation)(x)
    x = keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer=networks.conv_init(), name="to_image")(x)
    x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    if canvas != height:
        x = keras.layers.Cropping2D((networks._split(canvas - height), networks._split(canvas - width_px)),
                                    dtype="float32", name="crop")(x)
    return x


def build_resize_conv_generator(latent_dim=100, image_shape=(28, 28, 1), width=64, name="generator"):
    width = int(os.environ.get("KG_G_WIDTH", width))
    interpolation = os.environ.get("KG_UPSAMPLE", "nearest")
    levels = int(math.log2(networks.canvas_size(image_shape) // 4))  # canvas_size checks the shape
    z = keras.Input(shape=(latent_dim,), name="z")
    filters = width * 2 ** (levels - 1)
    x = project_latent(z, filters)
    resize_last = int(os.environ.get("KG_RESIZE_LAST", levels))
    for level in range(1, levels):
        filters //= 2
        if levels - level < resize_last:
            x = keras.layers.UpSampling2D(2, interpolation=interpolation)(x)
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                    kernel_initializer=networks.conv_init(), name=f"up{level}")(x)
        else:
            x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                             kernel_initializer=networks.conv_init(), name=f"up{level}")(x)
        x = networks._batch_norm(f"up{level}_bn")(x)
        x = keras.layers.ReLU()(x)
    return keras.Model(z, to_image(x, image_shape, interpolation), name=name)


if __name__ == "__main__":
    networks.build_generator = build_resize_conv_generator
    sys.argv[0] = os.path.join(ROOT, "train.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
