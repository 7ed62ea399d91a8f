"""Moved: the checkpoint format and manager to keras_gans.training.checkpoint
(`build_optimizers` is now `build_optimizer_slots`), the run folder to
keras_gans.training.run_dir, resume to keras_gans.training.resume, the
callbacks to keras_gans.callbacks.step and .checkpointer, the resume rule's
fields to keras_gans.config. This module re-exports them for one release."""

import os

from keras_gans.callbacks.checkpointer import Checkpointer  # noqa: F401
from keras_gans.callbacks.step import StepCallback  # noqa: F401
from keras_gans.config import RUN_CONTROL_FIELDS  # noqa: F401
from keras_gans.training.checkpoint import (  # noqa: F401
    FORMAT,
    CheckpointManager,
    CorruptCheckpointError,
    assign_state,
    read_checkpoint,
    training_variables,
    write_checkpoint,
)
from keras_gans.training.checkpoint import build_optimizer_slots as build_optimizers  # noqa: F401
from keras_gans.training.resume import check_resumable, describe_resume, resumable_fit  # noqa: F401
from keras_gans.training.run_dir import RunDir

DIRECTORY = "checkpoints"
# What `--restart` removes (now RunDir.training_outputs(), which adds best_generator.keras).
RUN_OUTPUTS = tuple(os.path.basename(p) for p in RunDir("").training_outputs())


def prepare_output_dir(config):
    """Creates --output_dir (checking it is writable); with --restart, removes the previous run's outputs."""
    from keras_gans import distribute

    if distribute.is_chief():
        RunDir(config.output_dir).prepare(restart=config.restart)
