"""The checkpoint file format and the manager of a folder of checkpoints.

A checkpoint is one `.npz` file, `checkpoints/ckpt-<global step>.npz`, holding
every variable training depends on, in a fixed order:

  model        both networks (weights, BatchNorm moving statistics, Dropout
               seed generators) and the model's training-noise seed state
  d_optimizer  the discriminator optimiser (step counter, moments, ...)
  g_optimizer  the generator optimiser
  metrics      the loss trackers' running sums, so a resumed epoch logs the
               same means as an uninterrupted one

plus a JSON record (`meta`): the global step, the epoch and the step inside
it, and the per-epoch history so far. The data position needs no state of its
own: the training stream is a pure function of (seed, batch index)
(`keras_gans.data.make_dataset(..., repeat=True, start_batch=...)`); resuming
from a checkpoint is keras_gans.training.resume.

Files are written to a temporary name, flushed to disk, then renamed, so a
kill leaves either the previous checkpoint or the new one, never half of one;
only the last `keep` are kept. A checkpoint that cannot be read (truncated,
corrupt) is skipped with a warning naming it, and the previous one is used.

Why not Keras' own `BackupAndRestore`: keras_gans.training.resume.
"""

import json
import logging
import os
import re
import zipfile

import keras
import numpy as np

from keras_gans.errors import UserError

logger = logging.getLogger("keras_gans")

FORMAT = 1
_NAME = re.compile(r"^ckpt-(\d+)\.npz$")


class CorruptCheckpointError(Exception):
    """A checkpoint file that cannot be read back."""


def training_variables(model):
    """The variables a checkpoint holds, by group, in a fixed order (both optimisers built)."""
    build_optimizer_slots(model)
    return {
        "model": list(model.variables),
        "d_optimizer": list(model.d_optimizer.variables),
        "g_optimizer": list(model.g_optimizer.variables),
        "metrics": list(model.metrics_variables),
    }


def build_optimizer_slots(model):
    """Creates both optimisers' slots now (a no-op when built): their state can only
    be saved or restored once it exists, and Keras builds them lazily at the first step."""
    if model.d_optimizer is None:
        raise RuntimeError("Call model.compile() before saving or restoring a checkpoint.")
    model.build_optimizer_slots()  # in the model's strategy scope, as tf.distribute needs


def to_numpy(variable):
    return np.array(keras.ops.convert_to_numpy(variable))


def write_checkpoint(path, model, meta):
    """Writes the model's training state and `meta` to `path` atomically.

    Raises:
        UserError: the file cannot be written (full disk, no permission).
    """
    arrays = {}
    for group, variables in training_variables(model).items():
        for i, variable in enumerate(variables):
            arrays[f"{group}/{i:04d}"] = to_numpy(variable)
    record = dict(meta, format=FORMAT)
    arrays["meta"] = np.frombuffer(json.dumps(record).encode("utf-8"), np.uint8)
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(os.path.dirname(path))
    except OSError as error:
        _remove_quietly(tmp)
        raise UserError(
            f"cannot write checkpoint {path}: {error.strerror or error}; free some disk space or choose "
            "another --output_dir"
        ) from None


def read_checkpoint(path):
    """(meta, {name: array}) of a checkpoint file.

    Raises:
        CorruptCheckpointError: the file is truncated, corrupt or not a checkpoint.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise CorruptCheckpointError(f"{type(error).__name__}: {error}") from None
    if meta.get("format") != FORMAT or "global_step" not in meta:
        raise CorruptCheckpointError(f"unknown checkpoint format {meta.get('format')!r}")
    return meta, arrays


def assign_state(model, arrays, path="checkpoint", groups=None):
    """Assigns checkpoint `arrays` to the model's variables (checked in full first).

    Raises:
        UserError: the checkpoint was written by a different model.
    """
    variables = training_variables(model)
    pairs = []
    for group, group_variables in variables.items():
        if groups is not None and group not in groups:
            continue
        saved = sorted(name for name in arrays if name.startswith(group + "/"))
        if len(saved) != len(group_variables):
            raise UserError(
                f"checkpoint {path} holds {len(saved)} {group} variables but this model has "
                f"{len(group_variables)}: it belongs to a different model; use --restart or another --output_dir"
            )
        for name, variable in zip(saved, group_variables):
            if tuple(arrays[name].shape) != tuple(variable.shape):
                raise UserError(
                    f"checkpoint {path}: {variable.path} has shape {tuple(arrays[name].shape)} there but "
                    f"{tuple(variable.shape)} in this model; use --restart or another --output_dir"
                )
            pairs.append((variable, arrays[name]))
    for variable, value in pairs:
        variable.assign(value)


class CheckpointManager:
    """Saves, lists, prunes and restores the checkpoints in one folder.

    Args:
        directory: the folder (created on the first save).
        keep: how many of the newest checkpoints to keep.

    Example:
        manager = CheckpointManager("runs/x/checkpoints", keep=3)
        meta, path = manager.restore_latest(model)   # (None, None) on a fresh run
        manager.save(model, {"global_step": 10, "epoch": 0, "step_in_epoch": 10, "history": {}})
    """

    def __init__(self, directory, keep=3):
        if int(keep) < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.directory = directory
        self.keep = int(keep)

    def path(self, step):
        return os.path.join(self.directory, f"ckpt-{int(step):08d}.npz")

    def checkpoints(self):
        """Paths of the checkpoints present, oldest first."""
        if not os.path.isdir(self.directory):
            return []
        found = sorted((int(m.group(1)), name) for name in os.listdir(self.directory) if (m := _NAME.match(name)))
        return [os.path.join(self.directory, name) for _, name in found]

    def save(self, model, meta):
        os.makedirs(self.directory, exist_ok=True)
        path = self.path(meta["global_step"])
        write_checkpoint(path, model, meta)
        for old in self.checkpoints()[: -self.keep]:
            _remove_quietly(old)
        return path

    def restore_latest(self, model):
        """Restores the newest readable checkpoint: (meta, path), or (None, None) when there is none.

        An unreadable checkpoint is reported (a warning naming the file) and the
        previous one is tried.

        Raises:
            UserError: checkpoints exist but none of them can be read.
        """
        # Built here even on a fresh run: optimisers built lazily inside the
        # first traced train step make tf.function trace it twice.
        build_optimizer_slots(model)
        paths = self.checkpoints()
        for path in reversed(paths):
            try:
                meta, arrays = read_checkpoint(path)
            except CorruptCheckpointError as error:
                logger.warning("checkpoint %s is unreadable (%s); falling back to the previous one", path, error)
                continue
            assign_state(model, arrays, path)
            meta["metrics_values"] = [arrays[name] for name in sorted(arrays) if name.startswith("metrics/")]
            return meta, path
        if paths:
            raise UserError(
                f"none of the {len(paths)} checkpoints in {self.directory} can be read (see the warnings above): "
                "pass --restart to start over"
            )
        return None, None


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _fsync_directory(directory):
    # Makes the rename itself durable; not every platform can open a folder.
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
