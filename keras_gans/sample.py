"""Old path of keras_gans.serving.sample, kept for one release: use keras_gans.serving.sample.

`python -m keras_gans.sample` keeps working too.
"""

from keras_gans._shim import redirect
from keras_gans.serving import sample

redirect(__name__, sample)
