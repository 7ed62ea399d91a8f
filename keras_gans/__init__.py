"""keras_gans: the classic GANs (GAN, DCGAN, WGAN, WGAN-GP) as Keras 3 models."""

import importlib
import os

# Keras 3 must run on TensorFlow here: tf.data, tf.distribute and SavedModel export.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_gans import cpu_threads  # noqa: E402

# Before anything runs a TensorFlow op: on a 2-core CPU, one thread per op and two ops at a time (faster for
# small networks); a model's constructor then sets what its own networks want (keras_gans.cpu_threads).
cpu_threads.configure()

from keras_gans.models import DCGAN, GAN, MODELS, WGAN, WGANGP  # noqa: E402

__version__ = "0.1.0"

__all__ = ["GAN", "DCGAN", "WGAN", "WGANGP", "MODELS", "__version__"]

# Any submodule is reachable as an attribute after a bare `import keras_gans`
# (e.g. `keras_gans.data.load(...)`, as the README does). It is imported on
# first use, so `import keras_gans` stays as quick as the models alone, no
# import cycle can form through this file, and modules added later need no
# entry here.


def __getattr__(name):
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"keras_gans.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"keras_gans.{name}":
                raise  # the submodule exists but one of its imports is missing: show that
    raise AttributeError(f"module 'keras_gans' has no attribute {name!r}")
