"""Old path of keras_gans.evaluation.evaluate, kept for one release: use keras_gans.evaluation.evaluate.

`python -m keras_gans.evaluate` keeps working too.
"""

from keras_gans._shim import redirect
from keras_gans.evaluation import evaluate

redirect(__name__, evaluate)
