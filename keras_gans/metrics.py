"""Old path of keras_gans.evaluation.metrics, kept for one release: use keras_gans.evaluation.metrics."""

from keras_gans._shim import redirect
from keras_gans.evaluation import metrics

redirect(__name__, metrics)
