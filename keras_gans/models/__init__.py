"""The four reference models: GAN (MLP), DCGAN, WGAN and WGAN-GP."""

from keras_gans.models.dcgan import DCGAN
from keras_gans.latents import latent_vectors
from keras_gans.models.gan import GAN
from keras_gans.models.wgan import WGAN, ClipConstraint, attach_weight_clipping
from keras_gans.models.wgan_gp import WGANGP

MODELS = {"gan": GAN, "dcgan": DCGAN, "wgan": WGAN, "wgan_gp": WGANGP}

__all__ = ["GAN", "DCGAN", "WGAN", "WGANGP", "ClipConstraint", "attach_weight_clipping", "latent_vectors", "MODELS"]
