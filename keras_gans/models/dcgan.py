"""DCGAN (Radford et al. 2015): the GAN algorithm with convolutional networks."""

import keras

from keras_gans.models.gan import GAN
from keras_gans.networks import dcgan


@keras.saving.register_keras_serializable(package="keras_gans")
class DCGAN(GAN):
    """DCGAN with the article's networks and Adam(2e-4, beta_1=0.5).

    Instance noise and label smoothing are off by default (the article's DCGAN
    uses neither); pass `instance_noise=0.05` or `label_smoothing=0.1` to try them.
    Any square 4 * 2**k image size works, e.g. the DCGAN paper's 64x64x3
    (`configs/dcgan64.flags`).
    """

    networks = dcgan
    discriminator_options = {"batch_norm": True}
    optimizer_settings = ("Adam", {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999, "epsilon": 1e-8})
    default_width = 64
    default_instance_noise = 0.0
    default_batch_size = 256
