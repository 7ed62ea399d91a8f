"""Old path of keras_gans.evaluation.quality, kept for one release: use keras_gans.evaluation.quality."""

from keras_gans._shim import redirect
from keras_gans.evaluation import quality

redirect(__name__, quality)
