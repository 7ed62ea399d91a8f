"""WGAN-GP (Gulrajani et al. 2017): WGAN with a gradient penalty instead of clipping."""

import keras
import tensorflow as tf

from keras_gans import losses
from keras_gans.models.gan import DRAW_GP_ALPHA
from keras_gans.models.wgan import WGAN
from keras_gans.networks import dcgan


@keras.saving.register_keras_serializable(package="keras_gans")
class WGANGP(WGAN):
    """WGAN-GP with the article's settings: critic without sigmoid and without
    BatchNorm, Adam(2e-4, beta_1=0, beta_2=0.9), n_critic = 5, lambda = 10.

    The penalty lambda * (||grad D(x_hat)|| - 1)^2 is taken at
    x_hat = alpha * x + (1 - alpha) * G(z), alpha ~ U(0, 1) drawn once per
    example, with an epsilon inside the norm's square root.

    Args:
        gp_weight: lambda.
        **kwargs: as `GAN` (there is no weight clipping).

    Logs `wasserstein` and `gradient_penalty` (the unweighted mean penalty).
    """

    def __init__(self, *args, gp_weight=10.0, **kwargs):
        kwargs.pop("clip_value", None)
        super().__init__(*args, clip_value=0.0, **kwargs)
        self.gp_weight = float(gp_weight)
        if self.gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight}")

    def build_networks(self):
        return (
            dcgan.build_generator(self.latent_dim, self.image_shape, self.width),
            dcgan.build_discriminator(self.image_shape, self.width, batch_norm=False),
        )

    def default_optimizers(self):
        return (
            keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9, epsilon=1e-8),
            keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9, epsilon=1e-8),
        )

    def _create_trackers(self):
        super()._create_trackers()
        self.trackers["gradient_penalty"] = keras.metrics.Mean(name="gradient_penalty")

    def discriminator_penalty(self, real, fake):
        # One alpha per example, from the same replica-aware noise as the latents.
        alpha = self.noise("uniform", tf.shape(real)[0], (), DRAW_GP_ALPHA, self.d_optimizer.iterations)
        penalty = losses.gradient_penalty(self.discriminator, real, fake, alpha)
        self.trackers["gradient_penalty"].update_state(tf.reduce_mean(penalty))
        return self.gp_weight * penalty

    def get_config(self):
        config = super().get_config()
        config.pop("clip_value", None)
        return {**config, "gp_weight": self.gp_weight}
