"""folder64 round 14 prototype: train.py with a StyleGAN-like mapping network before the generator.

Karras et al. 2019 (StyleGAN) found that the normal latent is a poor coordinate system for a data
set whose factors are not normally distributed (our folder: 60% people, a long tail of flags,
objects and symbols): a mapping network of fully connected layers lets the generator warp it. Here
the latent is normalised to unit average square (pixel norm, as StyleGAN), passes through
KG_MAPPING_LAYERS (default 4) Dense layers of the latent's width with LeakyReLU 0.2 and a
learning rate multiplier of 0.01 (StyleGAN's equalised-learning-rate mapping; done here as a
weight scaled by 0.01 in the forward pass with an initialisation 100x larger, so Adam's steps are
100x smaller relative to the weights), and feeds the preset's generator unchanged. No style
modulation, no noise inputs: only the warp of the latent. A benchmark prototype, not a flag
(BENCHMARKS.md "folder64 / Round 14").

    taskset -c 0 python benchmarks/preset_tuning/r14_mapping_network.py \\
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...
"""

import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402

from keras_gans.networks import dcgan as networks  # noqa: E402

LAYERS = int(os.environ.get("KG_MAPPING_LAYERS", 4))
LR_MULTIPLIER = 0.01


@keras.saving.register_keras_serializable(package="keras_gans_prototypes")
class PixelNorm(keras.layers.Layer):
    """x / sqrt(mean(x^2) + 1e-8) over the last axis."""

    def call(self, x):
        return x * keras.ops.rsqrt(keras.ops.mean(keras.ops.square(x), axis=-1, keepdims=True) + 1e-8)


@keras.saving.register_keras_serializable(package="keras_gans_prototypes")
class ScaledDense(keras.layers.Layer):
    """A Dense layer whose weights are used times `multiplier` (StyleGAN's mapping learning-rate multiplier)."""

    def __init__(self, units, multiplier=LR_MULTIPLIER, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.multiplier = multiplier

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        # He initialisation of the effective weight (kernel * multiplier).
        std = (2.0 / fan_in) ** 0.5 / self.multiplier
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(stddev=std))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, x):
        kernel = keras.ops.cast(self.kernel * self.multiplier, x.dtype)
        return keras.ops.matmul(x, kernel) + keras.ops.cast(self.bias * self.multiplier, x.dtype)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "multiplier": self.multiplier}


_build_generator = networks.build_generator


def build_generator(latent_dim=100, *args, **kwargs):
    synthesis = _build_generator(latent_dim, *args, **kwargs)
    z = keras.Input(shape=(latent_dim,), name="z")
    w = PixelNorm(name="pixel_norm")(z)
    for i in range(LAYERS):
        w = ScaledDense(latent_dim, name=f"mapping{i}")(w)
        w = keras.layers.LeakyReLU(0.2)(w)
    x = w
    for layer in synthesis.layers[1:]:  # the preset's generator, fed w instead of z
        x = layer(x)
    return keras.Model(z, x, name=synthesis.name)


if __name__ == "__main__":
    networks.build_generator = build_generator
    sys.argv[0] = os.path.join(ROOT, "train.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
