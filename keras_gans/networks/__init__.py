"""Network builders: generators [B, latent] -> [B, H, W, C] in [-1, 1]; discriminators -> [B, 1] logits."""

from keras_gans.networks import dcgan, mlp
from keras_gans.networks.layers import ReflectionPadding2D

__all__ = ["dcgan", "mlp", "ReflectionPadding2D"]
