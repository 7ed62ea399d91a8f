"""A model carries its own precision: the fastest by default, float32 on request, kept when saved."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans import precision
from conftest import tiny_config


def conv_compute_dtypes(network):
    return {layer.compute_dtype for layer in network._flatten_layers(include_self=False)
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))}


@pytest.fixture
def bfloat16_cpu(monkeypatch):
    """This machine as a CPU with native bfloat16 (the bfloat16 path is tested on any machine)."""
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: True)


def test_default_model_on_this_machine_uses_its_fastest_precision():
    # No skip: on a CPU without native bfloat16 the float32 fallback is what is checked.
    model = keras_gans.DCGAN(width=8, latent_dim=8)
    native = precision.cpu_has_native_bfloat16() and not precision.has_gpu()
    expected = "mixed_bfloat16" if native else "float32"
    assert model.precision == expected
    assert conv_compute_dtypes(model.discriminator) == {"bfloat16" if native else "float32"}
    assert conv_compute_dtypes(model.generator) == {"bfloat16" if native else "float32"}


def test_default_model_on_a_bfloat16_cpu_computes_in_bfloat16(bfloat16_cpu):
    model = keras_gans.DCGAN(width=8, latent_dim=8)
    assert model.precision == "mixed_bfloat16"
    assert conv_compute_dtypes(model.generator) == conv_compute_dtypes(model.discriminator) == {"bfloat16"}
    # Weights, generated images and logits stay float32; no global policy was left behind.
    assert {v.dtype for v in model.generator.weights + model.discriminator.weights} == {"float32"}
    assert model.generator(tf.zeros([2, 8])).dtype == tf.float32
    assert model.discriminator(tf.zeros([2, 28, 28, 1])).dtype == tf.float32
    assert keras.mixed_precision.global_policy().name == "float32"


def test_float32_opts_out(bfloat16_cpu):
    model = keras_gans.WGANGP(width=8, latent_dim=8, precision="float32")
    assert model.precision == "float32"
    assert conv_compute_dtypes(model.generator) == conv_compute_dtypes(model.discriminator) == {"float32"}


def test_unknown_precision_is_one_line():
    with pytest.raises(keras_gans.errors.UserError, match="use one of auto, float32"):
        keras_gans.DCGAN(width=8, precision="float8")


def user_networks():
    generator = keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(7 * 7 * 8), keras.layers.Reshape((7, 7, 8)),
        keras.layers.Conv2DTranspose(8, 4, strides=4, padding="same", activation="relu"),
        keras.layers.Conv2D(1, 3, padding="same", activation="tanh"),
    ])
    images = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(8, 4, strides=2, padding="same")(images)
    x = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(16, 4, strides=2, padding="same")(x))
    logits = keras.layers.Dense(1)(keras.layers.Flatten()(x))
    return generator, keras.Model(images, logits)


def test_your_own_float32_networks_follow_the_model_precision_except_their_outputs(bfloat16_cpu):
    generator, discriminator = user_networks()
    model = keras_gans.WGANGP(generator=generator, discriminator=discriminator, latent_dim=8, n_critic=2)
    assert model.precision == "mixed_bfloat16"
    assert generator.layers[1].compute_dtype == "bfloat16"  # the transposed convolution
    assert generator.layers[-1].compute_dtype == "float32"  # the output layer: images leave in float32
    assert discriminator.layers[1].compute_dtype == "bfloat16"
    assert discriminator.layers[-1].compute_dtype == "float32"
    model.compile(jit_compile=False)
    history = model.fit(np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32"),
                        batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["gradient_penalty"][-1])  # the penalty runs in float32 on bfloat16 networks


def test_networks_built_with_a_precision_are_left_as_built(bfloat16_cpu):
    generator, discriminator = user_networks()
    discriminator.layers[1].dtype_policy = "float16"  # the user chose something: not ours to change
    model = keras_gans.WGANGP(generator=generator, discriminator=discriminator, latent_dim=8)
    assert discriminator.layers[2].compute_dtype == "float32"
    assert model.generator.layers[1].compute_dtype == "bfloat16"


def test_train_py_builds_through_the_same_argument(tmp_path, bfloat16_cpu):
    from keras_gans.training.run import build

    model = build(tiny_config(tmp_path, model="dcgan"), (28, 28, 1))
    assert model.precision == "mixed_bfloat16"
    assert conv_compute_dtypes(model.discriminator) == {"bfloat16"}
    model = build(tiny_config(tmp_path, model="dcgan", precision="float32"), (28, 28, 1))
    assert conv_compute_dtypes(model.discriminator) == {"float32"}
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("name", ["mixed_bfloat16", "float32"])
def test_precision_survives_save_and_load(tmp_path, name):
    model = keras_gans.DCGAN(width=8, latent_dim=8, seed=1, precision=name)
    model.compile(jit_compile=False)
    assert model.get_config()["precision"] == name
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.precision == name
    assert conv_compute_dtypes(loaded.discriminator) == {"bfloat16" if name == "mixed_bfloat16" else "float32"}
    np.testing.assert_array_equal(loaded.generate(2, seed=3), model.generate(2, seed=3))


def drop_precision_key(path):
    """Rewrites a .keras file as an older version wrote it: no "precision" in the model's config."""
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    assert config["config"].pop("precision")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("name", ["mixed_bfloat16", "float32"])
def test_old_files_without_the_key_load_in_the_precision_they_were_built_in(tmp_path, monkeypatch, name):
    model = keras_gans.DCGAN(width=8, latent_dim=8, seed=1, precision=name)
    model.compile(jit_compile=False)
    path = str(tmp_path / "old.keras")
    model.save(path)
    drop_precision_key(path)
    # On a bfloat16 CPU too, an old float32 model stays float32: "auto" must not convert it.
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: True)
    loaded = keras.saving.load_model(path)
    assert loaded.precision == name
    assert conv_compute_dtypes(loaded.generator) == {"bfloat16" if name == "mixed_bfloat16" else "float32"}
    np.testing.assert_array_equal(loaded.generate(2, seed=3), model.generate(2, seed=3))
