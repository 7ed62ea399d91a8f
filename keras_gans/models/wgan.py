"""WGAN (Arjovsky et al. 2017): a critic without sigmoid, Wasserstein loss, weight clipping."""

import keras

from keras_gans.models.clipping import ClipConstraint, attach_weight_clipping  # noqa: F401  (old import path)
from keras_gans.models.dcgan import DCGAN


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

    loss_kind = "wasserstein"
    # PyTorch RMSprop defaults (alpha=0.99, eps=1e-8), as the article's script uses.
    optimizer_settings = ("RMSprop", {"learning_rate": 2e-4, "rho": 0.99, "epsilon": 1e-8})
    default_n_critic = 5
    default_batch_size = 128

    def __init__(self, *args, clip_value=0.01, **kwargs):
        super().__init__(*args, clip_value=clip_value, **kwargs)
