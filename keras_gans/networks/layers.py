"""Small layers the reference networks need and Keras does not ship."""

import keras
import tensorflow as tf


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
