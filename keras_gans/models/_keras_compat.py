"""Workarounds for Keras internals; each names the upstream issue it works around."""

import keras
import tensorflow as tf

from keras_gans import distribute


class MultiWorkerBuildMixin:
    """Builds the model without a data batch under MultiWorkerMirroredStrategy.

    Keras' private `_maybe_symbolic_build` reduces the first distributed batch
    eagerly, which fails under MultiWorkerMirroredStrategy
    (keras-team/keras#20585; see `distribute.multi_worker_logs`). A GAN is
    built at construction, so the symbolic build needs no data batch.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if distribute.is_multi_worker(self.distribute_strategy):
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=None)
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def loss_scale(optimizer):
    """The factor `optimizer.scale_loss()` multiplied the loss by (1 without loss scaling)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return tf.cast(optimizer.dynamic_scale, tf.float32)
    if optimizer.loss_scale_factor is None:
        return tf.constant(1.0, tf.float32)
    return tf.constant(float(optimizer.loss_scale_factor), tf.float32)
