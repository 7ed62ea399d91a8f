"""folder64 round 13 prototype: train.py with a residual generator patched in.

Each inner x2 upsampling of the DCGAN generator becomes a residual block (as the SNGAN / BigGAN
generators build them, post-activation): nearest x2, 3x3 conv, BatchNorm, ReLU, 3x3 conv, BatchNorm,
plus a shortcut of nearest x2 and a 1x1 conv, then ReLU. The projection from the latent and the
output layer (nearest x2 + 3x3 conv + tanh, the preset's --resize_conv_layers=1) are the preset's.
The discriminator is unchanged. A benchmark prototype, not a flag (BENCHMARKS.md "folder64 / Round 13").

    taskset -c 0 python benchmarks/preset_tuning/r13_residual_generator.py \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...
"""

import math
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402

from keras_gans.networks import dcgan as networks  # noqa: E402


def _conv(filters, size, name):
    return keras.layers.Conv2D(filters, size, padding="same", use_bias=False,
                               kernel_initializer=networks.conv_init(), name=name)


def build_residual_generator(latent_dim=100, image_shape=(28, 28, 1), width=64, name="generator",
                             resize_conv_layers=0):
    height, width_px, channels = networks._check_image_shape(image_shape)
    canvas = networks.canvas_size(image_shape)
    levels = int(math.log2(canvas // 4))
    z = keras.Input(shape=(latent_dim,), name="z")
    filters = width * 2 ** (levels - 1)
    x = keras.layers.Dense(4 * 4 * filters, use_bias=False, kernel_initializer=networks.conv_init(), name="project")(z)
    x = keras.layers.Reshape((4, 4, filters))(x)
    x = networks._batch_norm("project_bn")(x)
    x = keras.layers.ReLU()(x)
    for level in range(1, levels):
        filters //= 2
        up = keras.layers.UpSampling2D(2, name=f"up{level}_x2")(x)
        h = _conv(filters, 3, f"up{level}_conv_a")(up)
        h = networks._batch_norm(f"up{level}_bn_a")(h)
        h = keras.layers.ReLU()(h)
        h = _conv(filters, 3, f"up{level}_conv_b")(h)
        h = networks._batch_norm(f"up{level}_bn_b")(h)
        shortcut = _conv(filters, 1, f"up{level}_shortcut")(up)
        x = keras.layers.ReLU()(keras.layers.Add()([h, shortcut]))
    x = keras.layers.UpSampling2D(2)(x)
    x = keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer=networks.conv_init(), name="to_image")(x)
    x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    if canvas != height:
        x = keras.layers.Cropping2D((networks._split(canvas - height), networks._split(canvas - width_px)),
                                    dtype="float32", name="crop")(x)
    return keras.Model(z, x, name=name)


if __name__ == "__main__":
    networks.build_generator = build_residual_generator
    sys.argv[0] = os.path.join(ROOT, "train.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
