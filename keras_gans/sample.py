"""Old path of keras_gans.serving.sample, kept for one release: import keras_gans.serving.sample instead.

Importing this module gives keras_gans.serving.sample itself (the same module object), so every
name, and any monkeypatch made through the old path, reaches the code that runs.
"""

import sys

from keras_gans.serving import sample as _moved

if __name__ == "__main__":  # python -m keras_gans.sample keeps working
    sys.exit(_moved.main())
else:
    sys.modules[__name__] = _moved
