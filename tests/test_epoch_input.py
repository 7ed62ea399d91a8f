"""`fit(dataset, epochs=N)` keeps one input iterator for all epochs (keras_gans.models.epoch_input)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans.models.epoch_input import repeat_for_epochs
from conftest import random_images

STRATEGY = tf.distribute.get_strategy()  # the default (non-distributed) strategy


def batches(count=5, batch=4, shape=(28, 28, 1)):
    return tf.data.Dataset.from_tensor_slices(random_images(count * batch, shape)).batch(batch, drop_remainder=True)


def test_a_finite_dataset_becomes_endless_with_its_length_as_steps_per_epoch():
    x, kwargs = repeat_for_epochs(batches(5), (), {"epochs": 3, "verbose": 0}, STRATEGY)
    assert kwargs == {"epochs": 3, "verbose": 0, "steps_per_epoch": 5}
    assert int(x.cardinality()) == int(tf.data.INFINITE_CARDINALITY)
    # Pass p of the endless stream is the dataset's batches, in order.
    first = [b.numpy() for b in batches(5)]
    stream = [b.numpy() for b in x.take(10)]
    for i in range(10):
        np.testing.assert_array_equal(stream[i], first[i % 5])


@pytest.mark.parametrize("args, kwargs", [
    ((), {"epochs": 1}),  # one epoch: one iterator anyway
    ((), {}),  # fit's default: one epoch
    ((), {"epochs": 3, "initial_epoch": 2}),  # one epoch left
    ((), {"epochs": 3, "steps_per_epoch": 2}),  # the caller chose the steps
    ((None, None, 3) + (None,) * 9, {}),  # everything up to steps_per_epoch given positionally (None)
])
def test_left_alone_when_the_fit_says_how_many_steps_or_runs_one_epoch(args, kwargs):
    dataset = batches(5)
    x, out = repeat_for_epochs(dataset, args, kwargs, STRATEGY)
    assert x is dataset and out == kwargs


def test_left_alone_for_unknown_length_arrays_and_distribution():
    unknown = batches(5).filter(lambda images: True)
    assert int(unknown.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    assert repeat_for_epochs(unknown, (), {"epochs": 3}, STRATEGY)[0] is unknown
    endless = batches(5).repeat()
    assert repeat_for_epochs(endless, (), {"epochs": 3}, STRATEGY)[0] is endless
    arrays = random_images(8)
    assert repeat_for_epochs(arrays, (), {"epochs": 3}, STRATEGY)[0] is arrays
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0"])
    dataset = batches(5)
    assert repeat_for_epochs(dataset, (), {"epochs": 3}, mirrored)[0] is dataset


def _weights(model):
    return [w.numpy() for w in model.generator.weights + model.discriminator.weights]


def _tiny_dcgan():
    keras.utils.set_random_seed(0)
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), width=8, seed=0)
    model.compile(jit_compile=False)
    return model


def test_training_matches_a_new_iterator_per_epoch_exactly():
    # Three one-epoch fits are Keras' own path (a new iterator for each
    # epoch): the same batches must give the same weights, bit for bit.
    reference = _tiny_dcgan()
    for _ in range(3):
        reference.fit(batches(5), epochs=1, verbose=0)
    model = _tiny_dcgan()
    history = model.fit(batches(5), epochs=3, verbose=0)
    assert len(history.history["d_loss"]) == 3
    assert int(model.g_optimizer.iterations.numpy()) == 15
    for ours, theirs in zip(_weights(model), _weights(reference)):
        np.testing.assert_array_equal(ours, theirs)


def test_a_conditional_model_trains_through_the_same_path():
    images = random_images(20)
    labels = np.arange(20, dtype=np.int32) % 3
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4, drop_remainder=True)
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), width=8, num_classes=3, seed=0)
    model.compile(jit_compile=False)
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["d_loss"]) == 2
    assert int(model.g_optimizer.iterations.numpy()) == 10


@pytest.mark.parametrize("num_classes", [None, 3])
def test_the_models_fit_hands_keras_the_endless_stream(monkeypatch, num_classes):
    # What the models' fit passes on to Keras: the repeated dataset and its steps_per_epoch.
    seen = {}

    def keras_fit(self, x=None, *args, **kwargs):
        seen.update(cardinality=int(x.cardinality()), steps_per_epoch=kwargs.get("steps_per_epoch"))

    monkeypatch.setattr(keras.Model, "fit", keras_fit)
    images = random_images(20)
    data = images if num_classes is None else (images, np.arange(20, dtype=np.int32) % 3)
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), width=8, num_classes=num_classes, seed=0)
    model.compile(jit_compile=False)
    model.fit(tf.data.Dataset.from_tensor_slices(data).batch(4, drop_remainder=True), epochs=3, verbose=0)
    assert seen == {"cardinality": int(tf.data.INFINITE_CARDINALITY), "steps_per_epoch": 5}
