"""Small layers the reference networks need and Keras does not ship."""

import keras
import tensorflow as tf

from keras_gans import distribute


@keras.saving.register_keras_serializable(package="keras_gans")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring, as the article pads 28x28 to 32x32.

    Reflection (not zeros) keeps the border statistics of the image, so the
    padded frame carries no artificial edge that the discriminator could key on.

    Args:
        padding: ((top, bottom), (left, right)) in pixels.
    """

    def __init__(self, padding=((0, 0), (0, 0)), **kwargs):
        super().__init__(**kwargs)
        self.padding = tuple(tuple(int(p) for p in pair) for pair in padding)

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        return tf.pad(
            inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="REFLECT"
        )

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = input_shape
        height = None if height is None else height + top + bottom
        width = None if width is None else width + left + right
        return (batch, height, width, channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="keras_gans")
class ReplicaDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose masks differ between tf.distribute replicas.

    Keras' Dropout draws its mask from one SeedGenerator that every replica
    holds a copy of, so all replicas apply the SAME mask rows to their own
    examples (keras-team/keras#18426). This layer draws the mask of the whole
    GLOBAL batch from the layer's seed and keeps this replica's rows
    (`keras_gans.distribute.replica_noise`): replicas get different masks, and
    the global batch's masks do not depend on the replica count. Outside a
    strategy it is ordinary (inverted) dropout. `noise_shape` is not supported.
    """

    def __init__(self, rate, **kwargs):
        if kwargs.get("noise_shape") is not None:
            raise ValueError("ReplicaDropout does not support noise_shape")
        super().__init__(rate, **kwargs)

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        seed = self.seed_generator.next()
        uniform = distribute.replica_noise("uniform", tf.shape(inputs)[0], inputs.shape[1:], seed, 0, 0)
        keep = uniform >= self.rate
        return tf.where(keep, inputs / tf.cast(1.0 - self.rate, inputs.dtype), tf.zeros_like(inputs))
