"""Standing BatchNorm statistics for the generator average (keras_gans.models.averaging)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_gans
from keras_gans.callbacks import SampleGrids
from keras_gans.callbacks.class_grid import grid_picture
from keras_gans.models import averaging
from keras_gans.models.gan import latent_vectors
from keras_gans.serving.export import export_generator

EPSILON = 1e-3  # Keras' BatchNormalization default


def two_batch_norm_network(seed=0):
    """z [B, 3] -> Dense(2, no bias) -> BN -> ReLU -> Dense(2, no bias) -> BN: small enough to check by hand."""
    rng = np.random.default_rng(seed)
    z = keras.Input(shape=(3,))
    x = keras.layers.Dense(2, use_bias=False, name="first")(z)
    x = keras.layers.BatchNormalization(momentum=0.9, name="first_bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Dense(2, use_bias=False, name="second")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, synchronized=True, name="second_bn")(x)
    network = keras.Model(z, x)
    network.get_layer("first").kernel.assign(rng.normal(size=(3, 2)).astype("float32"))
    network.get_layer("second").kernel.assign(rng.normal(size=(2, 2)).astype("float32"))
    for name in ("first_bn", "second_bn"):
        layer = network.get_layer(name)
        layer.gamma.assign(rng.uniform(0.5, 2.0, 2).astype("float32"))
        layer.beta.assign(rng.normal(size=2).astype("float32"))
        # Averaged statistics far from this network's own: the case standing statistics fix.
        layer.moving_mean.assign([5.0, -5.0])
        layer.moving_variance.assign([9.0, 0.25])
    network.trainable = False
    return network


def by_hand(network, z):
    """Each BN's statistics measured on z layer by layer (biased variance), and the output normalised with them."""
    bn_1, bn_2 = network.get_layer("first_bn"), network.get_layer("second_bn")
    h = z @ network.get_layer("first").kernel.numpy()
    mean_1, var_1 = h.mean(0), h.var(0)
    h = bn_1.gamma.numpy() * (h - mean_1) / np.sqrt(var_1 + EPSILON) + bn_1.beta.numpy()
    h = np.maximum(h, 0.0) @ network.get_layer("second").kernel.numpy()
    mean_2, var_2 = h.mean(0), h.var(0)
    out = bn_2.gamma.numpy() * (h - mean_2) / np.sqrt(var_2 + EPSILON) + bn_2.beta.numpy()
    return (mean_1, var_1, mean_2, var_2), out


def test_standing_statistics_are_each_layers_statistics_measured_on_the_latents():
    average = two_batch_norm_network()
    before = [w.copy() for w in average.get_weights()]
    copy = averaging.averaged_copy(average)
    z = np.random.default_rng(1).normal(size=(64, 3)).astype("float32")
    averaging.standing_statistics(copy, average, tf.constant(z))
    (mean_1, var_1, mean_2, var_2), expected = by_hand(average, z)
    np.testing.assert_allclose(copy.get_layer("first_bn").moving_mean.numpy(), mean_1, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(copy.get_layer("first_bn").moving_variance.numpy(), var_1, rtol=1e-4)
    # The second layer measured its input with the first already normalised by ITS new statistics.
    np.testing.assert_allclose(copy.get_layer("second_bn").moving_mean.numpy(), mean_2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(copy.get_layer("second_bn").moving_variance.numpy(), var_2, rtol=1e-4)
    # Inference with the new statistics: the batch normalised with its own statistics.
    np.testing.assert_allclose(copy(z, training=False).numpy(), expected, rtol=1e-4, atol=1e-4)
    # The rest of the weights are the average's; the average itself is untouched.
    for name in ("first", "second"):
        np.testing.assert_array_equal(copy.get_layer(name).kernel.numpy(), average.get_layer(name).kernel.numpy())
    for want, got in zip(before, average.get_weights()):
        np.testing.assert_array_equal(got, want)
    # The copy leaves as it came: frozen, with its BatchNorm settings back.
    assert not copy.trainable and not copy.trainable_weights
    assert copy.get_layer("first_bn").momentum == 0.9 and copy.get_layer("second_bn").synchronized


def dcgan(**kwargs):
    kwargs.setdefault("ema_decay", 0.9)
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), latent_dim=8, width=4, seed=0, **kwargs)
    model.compile(jit_compile=False)
    return model


def train(model, steps=3):
    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)), tf.float32)
    for _ in range(steps):
        model.train_step(real)


def test_generate_and_the_export_sample_the_average_with_standing_statistics(tmp_path):
    model = dcgan()
    train(model)
    network = model.sampling_network()
    assert network is not model.ema_generator and model.sampling_generator is model.ema_generator
    z = latent_vectors(averaging.CALIBRATION_SAMPLES, model.latent_dim, averaging.CALIBRATION_SEED)
    expected = averaging.standing_statistics(averaging.averaged_copy(model.ema_generator), model.ema_generator, z)
    z = latent_vectors(5, model.latent_dim, 11)
    np.testing.assert_allclose(model.generate(5, seed=11), expected(z, training=False).numpy(), atol=1e-6)
    # The statistics differ from the averaged ones, and so do the images.
    assert np.abs(model.generate(5, seed=11) - model.ema_generator(z, training=False).numpy()).max() > 1e-3
    path = export_generator(model, str(tmp_path / "export"))
    served = tf.saved_model.load(path).signatures["serving_default"](z=z)
    np.testing.assert_allclose(next(iter(served.values())).numpy(), model.generate(5, seed=11), atol=1e-5)


def test_standing_statistics_follow_the_average_and_are_measured_once_per_change(tmp_path, monkeypatch):
    model = dcgan()
    train(model, 2)
    first = model.sampling_network()
    stats = first.get_layer("project_bn").moving_mean.numpy().copy()
    calls = []
    measure = averaging.standing_statistics
    monkeypatch.setattr(averaging, "standing_statistics", lambda *args: calls.append(1) or measure(*args))
    assert model.sampling_network() is first and not calls  # unchanged average: reused as it is
    train(model, 1)
    assert model.sampling_network() is first and len(calls) == 1  # the average moved: measured again
    assert not np.array_equal(first.get_layer("project_bn").moving_mean.numpy(), stats)
    # New weights without a step (load_weights, a restored checkpoint) are a change too.
    model.ema_generator.set_weights([w * 1.5 for w in model.ema_generator.get_weights()])
    model.sampling_network()
    assert len(calls) == 2
    # Saving stores the average, never the copy: a saved model loads and samples alike.
    model.save(str(tmp_path / "model.keras"))
    loaded = keras.models.load_model(str(tmp_path / "model.keras"))
    assert len(loaded.weights) == len(model.weights)
    np.testing.assert_allclose(loaded.generate(3, seed=2), model.generate(3, seed=2), atol=1e-6)


@pytest.mark.parametrize("case", ["no_average", "conditional", "no_batch_norm"])
def test_networks_without_averaged_batch_norm_statistics_are_served_as_they_are(case):
    if case == "no_average":
        model = dcgan(ema_decay=None)
        assert model.sampling_network() is model.generator
    elif case == "conditional":
        model = dcgan(num_classes=3)
        assert model.sampling_network() is model.ema_generator
    else:
        z = keras.Input(shape=(8,))
        images = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(z))
        model = keras_gans.GAN(image_shape=(28, 28, 1), latent_dim=8, ema_decay=0.9, seed=0,
                               generator=keras.Model(z, images))
        assert model.sampling_network() is model.ema_generator


def test_standing_statistics_in_batches_average_the_batches_statistics():
    average = two_batch_norm_network()
    z = np.random.default_rng(2).normal(size=(64, 3)).astype("float32")
    copy = averaging.standing_statistics(averaging.averaged_copy(average), average, tf.constant(z), batch_size=16)
    h = (z @ average.get_layer("first").kernel.numpy()).reshape(4, 16, 2)
    # Momentum (k - 1) / k on the k-th batch: the plain mean of the four batches' statistics.
    np.testing.assert_allclose(copy.get_layer("first_bn").moving_mean.numpy(), h.mean(1).mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(copy.get_layer("first_bn").moving_variance.numpy(), h.var(1).mean(0), rtol=1e-4)
    assert copy.get_layer("first_bn").momentum == 0.9


def test_sample_grids_redraw_the_last_epoch_with_standing_statistics_at_the_end(tmp_path):
    model = dcgan()
    train(model)
    grids = SampleGrids(str(tmp_path), num_images=4, seed=7, scale=1)
    grids.set_model(model)
    grids.on_epoch_end(0)
    path = tmp_path / "fixed_epoch_001.png"
    during = path.read_bytes()
    grids.on_train_end()
    drawn = np.asarray(Image.open(path))
    expected = grid_picture(model, 4, 7, standing_statistics=True)
    np.testing.assert_array_equal(drawn.reshape(expected.shape), expected)
    assert path.read_bytes() != during  # during training: the statistics as trained
    assert (tmp_path / "training.gif").exists()
