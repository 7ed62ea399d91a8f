"""WGAN-GP (Gulrajani et al. 2017): WGAN with a gradient penalty instead of clipping."""

import keras

from keras_gans.models.gan import DRAW_GP_ALPHA  # noqa: F401  (old import path)
from keras_gans.models.wgan import WGAN


@keras.saving.register_keras_serializable(package="keras_gans")
class WGANGP(WGAN):
    """WGAN-GP with the article's settings: critic without sigmoid and without
    BatchNorm, Adam(2e-4, beta_1=0, beta_2=0.9), n_critic = 5, lambda = 10.

    The penalty lambda * (||grad D(x_hat)|| - 1)^2 is taken at
    x_hat = alpha * x + (1 - alpha) * G(z), alpha ~ U(0, 1) drawn once per
    example, with an epsilon inside the norm's square root
    (`losses.gradient_penalty`). The penalty is defined per example, so the
    critic must not mix examples through batch statistics: no BatchNorm.

    Args:
        gp_weight: lambda.
        clip_value: no weight clipping by default (0).
        **kwargs: as `GAN`.

    Logs `wasserstein` and `gradient_penalty` (the unweighted mean penalty).
    """

    discriminator_options = {"batch_norm": False}
    optimizer_settings = ("Adam", {"learning_rate": 2e-4, "beta_1": 0.0, "beta_2": 0.9, "epsilon": 1e-8})

    def __init__(self, *args, gp_weight=10.0, clip_value=0.0, **kwargs):
        super().__init__(*args, clip_value=clip_value, gp_weight=gp_weight, **kwargs)
