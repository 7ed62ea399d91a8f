"""Shared by the serving tests: tiny models of the four kinds, exported, and a pixel comparison.

Not a test module (leading underscore); the test files import it.
"""

import types

import keras
import numpy as np
import tensorflow as tf

from keras_gans.images import to_uint8
from keras_gans.models import MODELS
from keras_gans.serving.export import export_generator

# name: (image_shape, latent_dim, width). GAN and DCGAN have the README's
# Fashion-MNIST shapes; WGAN and WGAN-GP check other shapes and 3 channels.
CASES = {
    "gan": ((28, 28, 1), 100, 8),
    "dcgan": ((28, 28, 1), 100, 4),
    "wgan": ((16, 16, 1), 16, 4),
    "wgan_gp": ((32, 32, 3), 16, 4),
}
Z_ROWS = 5
NUM, SEED = 6, 3
MAX_ABS_DIFF = 1e-5  # float32 graph vs eager kernels differ by a few ulps, nothing more


def randomise(generator, rng):
    """Weights that give varied images (tiny untrained DCGANs return an almost flat grey), and
    BatchNorm moving statistics far from their initial 0/1, so inference and training mode differ."""
    for weight in generator.weights:
        shape, path = tuple(weight.shape), weight.path
        if "moving_mean" in path:
            value = rng.normal(0, 0.5, shape)
        elif "moving_variance" in path:
            value = rng.uniform(0.3, 3.0, shape)
        elif "gamma" in path:
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) >= 2:  # kernels
            value = rng.normal(0, 1.5 / np.sqrt(np.prod(shape) / shape[-1]), shape)
        else:  # biases, beta
            value = rng.normal(0, 0.2, shape)
        weight.assign(value.astype("float32"))


def build(name):
    image_shape, latent_dim, width = CASES[name]
    keras.utils.set_random_seed(list(CASES).index(name))
    # float32 whatever the CPU: "auto" picks mixed bfloat16 on CPUs with native bfloat16, where graph and
    # eager kernels round apart by bfloat16 ulps (0.03 seen), far above the float32 MAX_ABS_DIFF checked here.
    model = MODELS[name](image_shape=image_shape, latent_dim=latent_dim, width=width, seed=0, precision="float32")
    randomise(model.generator, np.random.default_rng(1))
    return model


def training_mode_output(generator, z):
    # Training mode also updates BatchNorm's moving statistics: put them back.
    weights = generator.get_weights()
    images = generator(z, training=True).numpy()
    generator.set_weights(weights)
    return images


def assert_uint8_matches(actual, reference):
    """uint8 `actual` equals to_uint8(float `reference`), except where `reference` sits on a rounding edge.

    Graph and eager kernels differ by an ulp or so; that can flip a pixel
    only when (x + 1) * 127.5 is within a hair of .5. Any other mismatch
    (another latent, another network) changes almost every pixel.
    """
    expected = to_uint8(reference)
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    scaled = (reference.astype(np.float32) + 1.0) * 127.5
    on_edge = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3
    differ = actual != expected
    assert not np.any(differ & ~on_edge), f"{int(np.sum(differ & ~on_edge))} pixels differ away from a rounding edge"
    assert np.abs(actual.astype(int) - expected.astype(int)).max(initial=0) <= 1


def export_cases(base, names=tuple(CASES)):
    """{name: SimpleNamespace(model, path, z, reference outputs)}: each model built and exported under base."""
    cases = {}
    for name in names:
        model = build(name)
        if name == "gan":
            # One real training step (eager train_step: a fit without its
            # tracing cost): the model then owns optimiser variables, which
            # must stay out of the export, and needs no allow_untrained.
            model.compile(jit_compile=False)
            model.train_step(tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)), tf.float32))
            path = export_generator(model, str(base / name))
        else:
            path = export_generator(model, str(base / name), allow_untrained=True)
        z = np.random.default_rng(2).standard_normal((Z_ROWS, model.latent_dim)).astype("float32")
        cases[name] = types.SimpleNamespace(
            model=model,
            export_dir=str(base / name),
            path=path,
            z=z,
            inference=model.generator(z, training=False).numpy(),
            training=training_mode_output(model.generator, z),
            generated=model.generate(NUM, seed=SEED),
            ends=(model.generate(1, seed=0)[0], model.generate(1, seed=1)[0]),
        )
    return cases
