"""Old path of keras_gans.evaluation.evaluate, kept for one release: import keras_gans.evaluation.evaluate instead.

Importing this module gives keras_gans.evaluation.evaluate itself (the same module object), so every
name, and any monkeypatch made through the old path, reaches the code that runs.
"""

import sys

from keras_gans.evaluation import evaluate as _moved

if __name__ == "__main__":  # python -m keras_gans.evaluate keeps working
    sys.exit(_moved.main())
else:
    sys.modules[__name__] = _moved
