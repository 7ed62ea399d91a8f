"""Old path of keras_gans.evaluation.features, kept for one release: use keras_gans.evaluation.features.

`python -m keras_gans.features` keeps working too.
"""

from keras_gans._shim import redirect
from keras_gans.evaluation import features

redirect(__name__, features)
