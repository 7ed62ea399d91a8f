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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The stem and the output layer are round 5's prototype's (the preset's, as --resize_conv_layers=1 builds them).
from r5_resize_conv_generator import project_latent, to_image  # noqa: E402


def _conv(filters, size, name):
    return keras.layers.Conv2D(filters, size, padding="same", use_bias=False,
                               kernel_initializer=networks.conv_init(), name=name)


def build_residual_generator(latent_dim=100, image_shape=(28, 28, 1), width=64, name="generator",
                             resize_conv_layers=0):
    levels = int(math.log2(networks.canvas_size(image_shape) // 4))  # canvas_size checks the shape
    z = keras.Input(shape=(latent_dim,), name="z")
    filters = width * 2 ** (levels - 1)
    x = project_latent(z, filters)
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
    return keras.Model(z, to_image(x, image_shape), name=name)


if __name__ == "__main__":
    networks.build_generator = build_residual_generator
    sys.argv[0] = os.path.join(ROOT, "train.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
