"""WeightClipping: the WGAN critic's weight clipping, as a callback for any model."""

import keras

from keras_gans.models.wgan import attach_weight_clipping


class WeightClipping(keras.callbacks.Callback):
    """Clips the critic's weights to [-clip_value, clip_value] after EVERY critic update.

    A callback's `on_train_batch_end` runs once per train step, but a WGAN
    step holds `n_critic` critic updates, and with `steps_per_execution > 1`
    a call covers several steps. So instead of clipping there, this callback
    attaches a clipping constraint to each critic variable when training
    begins; the optimiser applies it right after each update, inside the
    compiled step, and the train function is retraced to include it.

    Args:
        clip_value: the bound c (the WGAN paper's 0.01).

    Example:
        model = keras_gans.WGAN(clip_value=0)   # no built-in clipping
        model.compile()
        model.fit(dataset, callbacks=[WeightClipping(0.01)])
    """

    def __init__(self, clip_value=0.01):
        super().__init__()
        if clip_value <= 0:
            raise ValueError(f"clip_value must be positive, got {clip_value}")
        self.clip_value = float(clip_value)

    def on_train_begin(self, logs=None):
        attach_weight_clipping(self.model.discriminator, self.clip_value)
        self.model.make_train_function(force=True)
