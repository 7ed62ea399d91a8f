"""Moved: `run` and its build steps to keras_gans.training.run, `validate` to
keras_gans.training.validate, `TrainConfig` to keras_gans.config. This module
re-exports them for one release; import from the new paths."""

from keras_gans.config import TrainConfig  # noqa: F401
from keras_gans.training.run import (  # noqa: F401
    RunResult,
    build,
    build_model,
    build_optimizers,
    make_callbacks,
    run,
    save,
    write_run_info,
)
from keras_gans.training.validate import requested_image_shape, validate  # noqa: F401
