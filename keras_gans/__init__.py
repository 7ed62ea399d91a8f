"""keras_gans: the classic GANs (GAN, DCGAN, WGAN, WGAN-GP) as Keras 3 models."""

import os

# Keras 3 must run on TensorFlow here: tf.data, tf.distribute and SavedModel export.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_gans.models import DCGAN, GAN, MODELS, WGAN, WGANGP  # noqa: E402

__version__ = "0.1.0"

__all__ = ["GAN", "DCGAN", "WGAN", "WGANGP", "MODELS", "__version__"]
