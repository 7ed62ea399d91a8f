"""Old path of keras_gans.serving.export (and its warm-up and version helpers), kept for one release.

The module was split in three; this shim re-exports every public name the
old one had. Import from keras_gans.serving.{export, warmup, versions} instead.
"""

from keras_gans.images import to_uint8  # noqa: F401
from keras_gans.serving.export import MAX_IMAGES, export_generator, slerp  # noqa: F401
from keras_gans.serving.versions import next_version  # noqa: F401
from keras_gans.serving.warmup import (  # noqa: F401
    WARMUP_FILE, encode_predict_log, warmup_requests, write_warmup_requests,
)
