"""The generator average (`ema_decay`; Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training").

After every generator update a frozen copy of the generator moves towards the
trained one. Its samples are smoother than the raw generator's, whose weights
keep circling around the equilibrium.
"""

import keras
import tensorflow as tf

from keras_gans.errors import UserError


def averaged_copy(generator):
    """A frozen copy of `generator` (same architecture and weights) to hold its moving average."""
    try:
        copy = keras.models.clone_model(generator)
    except Exception as error:  # a custom generator Keras cannot rebuild from its config
        raise UserError(
            f"ema_decay needs a copy of the generator, and keras.models.clone_model failed on it "
            f"({type(error).__name__}: {error}); make the generator serializable or drop ema_decay"
        ) from None
    copy.set_weights(generator.get_weights())
    copy.trainable = False
    return copy


def update_average(average_network, raw_network, ema_decay, updates):
    """One step of the average after the `updates`-th generator update.

    Every variable (BatchNorm statistics included) becomes
    `d * average + (1 - d) * raw` with `d = min(ema_decay, (1 + t) / (10 + t))`:
    the warm-up term lets the average leave the random initialisation quickly
    (as tf.train.ExponentialMovingAverage's num_updates).
    """
    t = tf.cast(updates, tf.float32)
    decay = tf.minimum(ema_decay, (1.0 + t) / (10.0 + t))
    for average, raw in zip(average_network.weights, raw_network.weights):
        # Every replica holds the same raw weights (their gradients were
        # all-reduced), so every replica computes the same average.
        average.assign(decay * average + (1.0 - decay) * tf.cast(raw, average.dtype))
