"""Class-conditional models (num_classes=...): networks, training with labels, sampling, saving, bad labels."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans.errors import UserError
from keras_gans.latents import class_labels
from keras_gans.models import conditional
from conftest import random_images


def tiny(cls=keras_gans.GAN, **kwargs):
    kwargs.setdefault("width", 8)
    kwargs.setdefault("latent_dim", 8)
    kwargs.setdefault("num_classes", 3)
    return cls(image_shape=(28, 28, 1), seed=0, **kwargs)


def labelled(count, num_classes=3, seed=0):
    labels = np.random.default_rng(seed).integers(0, num_classes, count).astype("int32")
    return random_images(count, seed=seed), labels


def test_projection_discriminator_adds_the_inner_product_of_class_embedding_and_features():
    # Base D: phi(x) = x (2 features), psi(phi) = w . phi + b with w = (1, 2), b = 0.5.
    x = keras.Input((2,))
    hidden = keras.layers.Activation("linear")(x)
    base = keras.Model(x, keras.layers.Dense(1, name="psi")(hidden))
    base.get_layer("psi").set_weights([np.array([[1.0], [2.0]]), np.array([0.5])])
    model = conditional.projection_discriminator(base, num_classes=2)
    model.get_layer("class_projection").set_weights([np.array([[3.0, 0.0], [-1.0, 4.0]])])
    images = np.array([[1.0, 1.0], [2.0, -1.0]], "float32")
    # Example 0, class 1: psi = 1 + 2 + 0.5 = 3.5; <(-1, 4), (1, 1)> = 3  -> 6.5
    # Example 1, class 0: psi = 2 - 2 + 0.5 = 0.5; <(3, 0), (2, -1)> = 6  -> 6.5
    out = model([images, np.array([1, 0], "int32")]).numpy()
    np.testing.assert_allclose(out, [[6.5], [6.5]], rtol=1e-6)
    out = model([images, np.array([0, 1], "int32")]).numpy()  # swap classes: 3.5 + 3 and 0.5 - 6
    np.testing.assert_allclose(out, [[6.5], [-5.5]], rtol=1e-6)


def test_unconditional_models_are_unchanged():
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), width=4, latent_dim=8, seed=0)
    assert "num_classes" not in model.get_config()
    assert len(model.generator.inputs) == 1 and len(model.discriminator.inputs) == 1
    assert not any("class" in v.path for v in model.variables)
    with pytest.raises(UserError, match="conditional model"):
        model.generate(2, seed=0, labels=[0, 1])


@pytest.mark.parametrize("cls", [keras_gans.GAN, keras_gans.DCGAN, keras_gans.WGANGP], ids=lambda c: c.__name__)
def test_conditional_shapes_and_config(cls):
    model = tiny(cls, width=4)
    assert model.get_config()["num_classes"] == 3
    assert [tuple(i.shape) for i in model.generator.inputs] == [(None, 8), (None,)]
    images, labels = labelled(4)
    assert model.discriminator([images, labels]).shape == (4, 1)
    assert model.generate(4, seed=0, labels=[0, 1, 2, 0]).shape == (4, 28, 28, 1)


def test_generate_follows_labels_and_draws_random_classes_from_the_seed():
    model = tiny()
    # The class embedding is small at initialisation: make it large so the classes clearly differ.
    model.generator.get_layer("class_embedding").set_weights([np.eye(3, 50, dtype="float32") * 30])
    same = model.generate(3, seed=5, labels=[1, 1, 1])
    np.testing.assert_array_equal(same, model.generate(3, seed=5, labels=1))  # one label for all
    other = model.generate(3, seed=5, labels=[2, 2, 2])
    assert np.abs(same - other).mean() > 1e-3
    drawn = class_labels(16, 3, 7).numpy()
    assert set(drawn) == {0, 1, 2}  # 16 draws of 3 classes: all appear for this seed
    np.testing.assert_array_equal(model.generate(16, seed=7), model.generate(16, seed=7, labels=drawn))


@pytest.mark.parametrize("labels, message", [
    ([0, 3], "label 3 is out of range: this model has num_classes=3"),
    ([-1, 0], "label -1 is out of range"),
    ([0.0, 1.0], "integer class ids"),
    ([0, 1, 2], "2 images but labels of shape"),
])
def test_bad_labels_give_one_line_errors(labels, message):
    with pytest.raises(UserError, match=message) as error:
        tiny().generate(2, seed=0, labels=labels)
    assert "\n" not in str(error.value)


def test_bad_num_classes_and_single_input_networks_are_refused():
    with pytest.raises(UserError, match="num_classes must be an integer >= 2"):
        tiny(num_classes=1)
    plain = keras_gans.GAN(image_shape=(28, 28, 1), width=8, latent_dim=8)
    with pytest.raises(UserError, match="the discriminator must take two inputs"):
        tiny(discriminator=plain.discriminator)


def test_training_on_labelled_batches_updates_the_class_embeddings():
    model = tiny()
    model.compile(jit_compile=False)
    g_embed = model.generator.get_layer("class_embedding").get_weights()[0].copy()
    d_embed = model.discriminator.get_layer("class_projection").get_weights()[0].copy()
    images, labels = labelled(32)
    history = model.fit(images, labels, batch_size=16, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert not np.array_equal(g_embed, model.generator.get_layer("class_embedding").get_weights()[0])
    assert not np.array_equal(d_embed, model.discriminator.get_layer("class_projection").get_weights()[0])


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("form", ["numpy", "dataset"])
def test_out_of_range_training_labels_are_refused_in_one_line(form, jit_compile):
    # Under XLA the embedding's gather would clamp label 3 to class 2 and train on silently.
    model = tiny()
    model.compile(jit_compile=jit_compile)
    images, labels = labelled(32)
    labels[5] = model.num_classes
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(UserError, match=r"training labels must be class ids in \[0, 3\) \(num_classes=3\)") as error:
        if form == "numpy":
            model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
        else:
            model.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(16), epochs=1, verbose=0)
    assert "\n" not in str(error.value)
    if form == "numpy":  # refused before any training
        assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_the_label_check_on_a_dataset_keeps_its_order_and_warns_nothing():
    # The check is a map in the input pipeline: it must pass every batch through unchanged and
    # in order, and must not print tf.data's "deterministic has no effect" UserWarning on each fit.
    images, labels = labelled(8)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checked = conditional.checked_training_input(dataset, None, 3)
    for (a, b), (c, d) in zip(dataset, checked):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_images_without_labels_are_refused_in_one_line():
    model = tiny()
    model.compile(jit_compile=False)
    with pytest.raises(UserError, match=r"trains on \(images, labels\) batches but got images only"):
        model.fit(random_images(16), batch_size=16, epochs=1, verbose=0)


def test_critic_batches_keep_labels_with_their_images_and_penalties_hold_labels_fixed():
    model = tiny(keras_gans.WGANGP, width=4, n_critic=2, r1_gamma=1.0)
    model.compile(run_eagerly=True)
    seen, penalised = [], []
    step, penalty = model._discriminator_step, model.discriminator_penalty

    def record_step(real, labels=None):
        seen.append((real.numpy(), labels.numpy()))
        return step(real, labels)

    def record_penalty(real, fake, labels=None):
        penalised.append(labels.numpy())
        return penalty(real, fake, labels)

    model._discriminator_step, model.discriminator_penalty = record_step, record_penalty
    labels = np.arange(8, dtype="int32") % 3
    images = np.broadcast_to((labels / 10.0)[:, None, None, None], (8, 28, 28, 1)).astype("float32")
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert len(seen) == 2
    for real, batch_labels in seen:
        np.testing.assert_allclose(real[:, 0, 0, 0], batch_labels / 10.0, rtol=1e-6)
    np.testing.assert_array_equal(np.concatenate([b for _, b in seen]), labels)
    np.testing.assert_array_equal(np.concatenate(penalised), labels)


def test_save_and_load_keeps_num_classes_and_samples(tmp_path):
    model = tiny(keras_gans.DCGAN, width=4)
    model.compile(jit_compile=False)
    model.fit(*labelled(16), batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.num_classes == 3
    np.testing.assert_allclose(loaded.generate(4, seed=1, labels=[0, 1, 2, 2]),
                               model.generate(4, seed=1, labels=[0, 1, 2, 2]), atol=1e-6)
