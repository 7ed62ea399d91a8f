"""Old path of keras_gans.evaluation.quality, kept for one release: import keras_gans.evaluation.quality instead.

Importing this module gives keras_gans.evaluation.quality itself (the same module object), so every
name, and any monkeypatch made through the old path, reaches the code that runs.
"""

import sys

from keras_gans.evaluation import quality as _moved

sys.modules[__name__] = _moved
