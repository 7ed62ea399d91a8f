"""The generator average (`ema_decay`; Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training").

After every generator update a frozen copy of the generator moves towards the
trained one. Its samples are smoother than the raw generator's, whose weights
keep circling around the equilibrium.

BatchNorm statistics are averaged with the weights, but the average of the
raw generator's statistics is not the statistics of the averaged generator
(whose activations differ from any one raw generator's). Samples therefore
come from a calibrated copy (`standing_statistics`): the average's weights
with BatchNorm statistics measured on the average itself (BigGAN's "standing
statistics", Brock et al. 2019). The average itself, which training updates
and checkpoints store, is never changed by this.
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


# Latents the standing statistics are measured on: a fixed seed, so every process
# (and every worker of a multi-worker run) measures alike. 4,096 of them: one
# batch of 512 left the folder64 preset's classifier FD 0.15-0.25 off the value
# that 2,048 or 4,096 latents agree on (BENCHMARKS.md, "Standing statistics").
CALIBRATION_SAMPLES = 4096
CALIBRATION_BATCH = 512  # latents per pass: bounds the memory of a 64x64 generator's activations
CALIBRATION_SEED = 20190212  # any fixed value


def batch_norm_layers(network):
    return [layer for layer in network._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def standing_statistics(copy, average_network, latents, batch_size=CALIBRATION_BATCH):
    """`copy` becomes `average_network` with each BatchNorm's statistics measured on `latents`.

    Training-mode passes over batches of the latents: with momentum
    (k - 1) / k on the k-th batch, each BatchNorm's moving mean and variance
    end as the mean of the batches' statistics, each layer measured on its
    input as the layers before it normalise it (with their batch's
    statistics; one batch: exactly what an inference-mode pass with the new
    statistics sees). Returns `copy`.
    """
    copy.set_weights(average_network.get_weights())
    layers = batch_norm_layers(copy)
    saved = [(layer.momentum, layer.synchronized) for layer in layers]
    try:
        copy.trainable = True  # a frozen BatchNorm ignores training=True
        for k, start in enumerate(range(0, int(latents.shape[0]), batch_size), start=1):
            for layer in layers:
                # Not synchronised: local batches, measured outside any replica context.
                layer.momentum, layer.synchronized = (k - 1) / k, False
            copy(latents[start:start + batch_size], training=True)
    finally:
        copy.trainable = False
        for layer, (momentum, synchronized) in zip(layers, saved):
            layer.momentum, layer.synchronized = momentum, synchronized
    return copy
