"""WGAN (Arjovsky et al. 2017): a critic without sigmoid, Wasserstein loss, weight clipping."""

import keras
import tensorflow as tf

from keras_gans import losses
from keras_gans.models.dcgan import DCGAN


@keras.saving.register_keras_serializable(package="keras_gans")
class ClipConstraint(keras.constraints.Constraint):
    """Clips a weight to [-clip_value, clip_value].

    As a variable constraint it is applied by the optimiser right after every
    update of that variable, inside the compiled train step: exact for any
    `n_critic` and any `steps_per_execution`, unlike a clipping callback.
    """

    def __init__(self, clip_value):
        self.clip_value = float(clip_value)

    def __call__(self, w):
        return keras.ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}


def attach_weight_clipping(network, clip_value):
    """Clip every trainable variable of `network` after each optimiser update.

    All of them, BatchNorm's gamma and beta included, as the original WGAN does.
    """
    constraint = ClipConstraint(clip_value) if clip_value else None
    for variable in network.trainable_variables:
        variable.constraint = constraint
        if constraint is not None:
            variable.assign(constraint(variable))


@keras.saving.register_keras_serializable(package="keras_gans")
class WGAN(DCGAN):
    """WGAN with the article's settings: DCGAN critic without sigmoid, RMSprop(2e-4),
    n_critic = 5, critic weights clipped to [-0.01, 0.01] after every critic update.

    Args:
        clip_value: clipping bound c; 0 or None disables clipping (use a
            `WeightClipping` callback or your own constraint instead).
        **kwargs: as `GAN`.

    Logs `wasserstein`, the critic's estimate E[D(x)] - E[D(G(z))].
    """

    default_n_critic = 5
    default_batch_size = 128

    def __init__(self, *args, clip_value=0.01, **kwargs):
        super().__init__(*args, **kwargs)
        self.clip_value = float(clip_value) if clip_value else 0.0
        if self.clip_value < 0:
            raise ValueError(f"clip_value must be >= 0, got {clip_value}")
        attach_weight_clipping(self.discriminator, self.clip_value)

    def default_optimizers(self):
        # PyTorch RMSprop defaults (alpha=0.99, eps=1e-8), as the article's script uses.
        return (
            keras.optimizers.RMSprop(2e-4, rho=0.99, epsilon=1e-8),
            keras.optimizers.RMSprop(2e-4, rho=0.99, epsilon=1e-8),
        )

    def _create_trackers(self):
        super()._create_trackers()
        self.trackers["wasserstein"] = keras.metrics.Mean(name="wasserstein")

    def discriminator_loss(self, real_scores, fake_scores):
        return losses.wasserstein_discriminator_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores):
        return losses.wasserstein_generator_loss(fake_scores)

    def discriminator_output(self, scores):
        return scores

    def _discriminator_step(self, real):
        real_scores, fake_scores = super()._discriminator_step(real)
        self.trackers["wasserstein"].update_state(tf.reduce_mean(real_scores) - tf.reduce_mean(fake_scores))
        return real_scores, fake_scores

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}
