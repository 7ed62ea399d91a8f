"""Checkpoints of a GAN run and exact resume after a kill.

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
(`keras_gans.data.make_dataset(..., repeat=True, start_batch=...)`).

Files are written to a temporary name, flushed to disk, then renamed, so a
kill leaves either the previous checkpoint or the new one, never half of one;
only the last `keep` are kept. A checkpoint that cannot be read (truncated,
corrupt) is skipped with a warning naming it, and the previous one is used.

Keras' own `BackupAndRestore` is not used. Its weights file does hold both
optimisers (they are attributes of the model; checked with Keras 3.15), but
before loading it builds only `model.optimizer`, so the state of the two
unbuilt GAN optimisers is skipped with a mere warning; and it restarts an
interrupted epoch from its first batch (only the epoch number is restored)
with a fresh data iterator, so neither the data nor the weights match a run
left alone.
"""

import dataclasses
import json
import logging
import os
import re
import shutil
import zipfile

import keras
import numpy as np

from keras_gans import distribute
from keras_gans.errors import UserError

logger = logging.getLogger("keras_gans")

FORMAT = 1
DIRECTORY = "checkpoints"
_NAME = re.compile(r"^ckpt-(\d+)\.npz$")

# Settings that change how a run is driven or reported, not what it computes:
# they may differ between an interrupted run and its resumption.
RUN_CONTROL_FIELDS = frozenset({
    "epochs", "output_dir", "restart", "verbose", "export", "download", "data_dir", "jit_compile", "strategy", "tpu",
    "grid_images", "checkpoint_every", "keep_checkpoints", "tensorboard", "log_every", "health_checks",
    "d_loss_floor", "d_loss_patience", "diversity_floor", "quality_metric", "quality_every",
})
# What `--restart` removes: the files one run writes while it trains.
RUN_OUTPUTS = (DIRECTORY, "tensorboard", "samples", "history.json", "loss.png")


class CorruptCheckpointError(Exception):
    """A checkpoint file that cannot be read back."""


def training_variables(model):
    """The variables a checkpoint holds, by group, in a fixed order (both optimisers built)."""
    build_optimizers(model)
    return {
        "model": list(model.variables),
        "d_optimizer": list(model.d_optimizer.variables),
        "g_optimizer": list(model.g_optimizer.variables),
        "metrics": list(model.metrics_variables),
    }


def build_optimizers(model):
    """Creates both optimisers' slots now (a no-op when built): their state can only
    be saved or restored once it exists, and Keras builds them lazily at the first step."""
    if model.d_optimizer is None:
        raise RuntimeError("Call model.compile() before saving or restoring a checkpoint.")
    # Under tf.distribute the slots must be created in the model's strategy scope.
    with model.distribute_strategy.scope():
        if not model.d_optimizer.built:
            model.d_optimizer.build(model.discriminator.trainable_variables)
        if not model.g_optimizer.built:
            model.g_optimizer.build(model.generator.trainable_variables)


def _to_numpy(variable):
    return np.array(keras.ops.convert_to_numpy(variable))


def write_checkpoint(path, model, meta):
    """Writes the model's training state and `meta` to `path` atomically.

    Raises:
        UserError: the file cannot be written (full disk, no permission).
    """
    arrays = {}
    for group, variables in training_variables(model).items():
        for i, variable in enumerate(variables):
            arrays[f"{group}/{i:04d}"] = _to_numpy(variable)
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
        build_optimizers(model)
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


# ----- the run folder ------------------------------------------------------------------


def check_resumable(config):
    """Refuses an --output_dir that holds a run with other training settings (unless --restart).

    Only settings that change what is computed count; `RUN_CONTROL_FIELDS`
    (epochs, logging, checkpointing...) may change between a run and its resumption.

    Raises:
        UserError: naming each differing flag, its old and new value.
    """
    path = os.path.join(config.output_dir, "config.json")
    if config.restart or not os.path.isfile(path):
        return
    try:
        with open(path) as f:
            saved = json.load(f)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {path} ({error}): pass --restart to start over in {config.output_dir}") from None
    current = dataclasses.asdict(config)
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    differences = []
    for name in sorted(set(saved) | set(current)):
        if name in RUN_CONTROL_FIELDS:
            continue
        old, new = saved.get(name, defaults.get(name)), current.get(name, defaults.get(name))
        if old != new:
            differences.append(f"--{name}={old} there, {new} now")
    if differences:
        raise UserError(
            f"--output_dir={config.output_dir} holds a run with different settings ({'; '.join(differences)}): "
            "repeat its flags to resume it, pass --restart to start over there, or choose another --output_dir"
        )


def prepare_output_dir(config):
    """Creates --output_dir (checking it is writable); with --restart, removes the previous run's outputs.

    Raises:
        UserError: the folder cannot be created or written.
    """
    output_dir = config.output_dir
    if not distribute.is_chief():
        return
    probe = os.path.join(output_dir, ".write_test")
    try:
        os.makedirs(output_dir, exist_ok=True)
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UserError(
            f"cannot write to --output_dir={output_dir}: {error.strerror or error}; choose a writable folder"
        ) from None
    if config.restart:
        removed = []
        for name in RUN_OUTPUTS:
            path = os.path.join(output_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
                removed.append(name)
            elif os.path.exists(path):
                os.remove(path)
                removed.append(name)
        if removed:
            print(f"restart: removed the previous run's {', '.join(removed)} from {output_dir}")


# ----- training -------------------------------------------------------------------------


class StepCallback(keras.callbacks.Callback):
    """A callback that knows the global train step, counted from the run's start across resumptions.

    Args:
        steps_per_epoch: train steps in one epoch.
        start_step: the global step training starts (resumes) from.
    """

    def __init__(self, steps_per_epoch, start_step=0):
        super().__init__()
        self.steps_per_epoch = int(steps_per_epoch)
        self.start_step = int(start_step)
        self.epoch = self.start_step // self.steps_per_epoch
        self._epoch_base = self.start_step

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        # The first epoch of a resumed run starts part-way through.
        self._epoch_base = max(epoch * self.steps_per_epoch, self.start_step)

    def global_step(self, batch):
        """Global steps done once `batch` (the index Keras passes, inside this fit epoch) ends."""
        return self._epoch_base + int(batch) + 1

    def step_in_epoch(self, batch):
        return self.global_step(batch) - self.epoch * self.steps_per_epoch


class Checkpointer(StepCallback):
    """Saves a checkpoint every `every` steps and at the end of every epoch.

    Put it after the callbacks that write an epoch's files (sample grids,
    history): the epoch-end checkpoint then says "this epoch is done" only
    once they are written. Non-finite state is never saved.

    Args:
        manager: a `CheckpointManager`.
        steps_per_epoch: train steps in one epoch.
        every: save every this many global steps; 0 saves at epoch ends only.
        resume: the meta of the checkpoint training resumes from, or None.
        history: per-epoch logs so far (the resumed checkpoint's).
    """

    def __init__(self, manager, steps_per_epoch, every=0, resume=None, history=None):
        super().__init__(steps_per_epoch, start_step=(resume or {}).get("global_step", 0))
        saved = (resume or {}).get("steps_per_epoch", self.steps_per_epoch)
        if saved != self.steps_per_epoch:
            raise UserError(
                f"the checkpoint in {manager.directory} was written with {saved} steps per epoch, this run has "
                f"{self.steps_per_epoch} (has the dataset changed size?): restore the data or pass --restart"
            )
        self.manager = manager
        self.every = int(every)
        self.resume = resume
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.last_saved = self.start_step
        self.last_path = None

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        resume = self.resume
        if resume and resume["global_step"] == self._epoch_base and resume["global_step"] % self.steps_per_epoch:
            # fit has just reset the trackers; give them back the sums of the
            # steps this epoch ran before the interruption.
            for variable, value in zip(self.model.metrics_variables, resume["metrics_values"]):
                variable.assign(value)

    def on_train_batch_end(self, batch, logs=None):
        step = self.last_step = self.global_step(batch)
        in_epoch = step - self.epoch * self.steps_per_epoch
        if self.every and step // self.every > self.last_saved // self.every and in_epoch < self.steps_per_epoch:
            self.save(step, self.epoch, in_epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        end = (epoch + 1) * self.steps_per_epoch
        if getattr(self, "last_step", end) < end:
            # Stopped early by another callback: the epoch is not done.
            self.save(self.last_step, epoch, self.last_step - epoch * self.steps_per_epoch, logs)
            return
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.save(end, epoch + 1, 0, logs)

    def save(self, step, epoch, in_epoch, logs):
        from keras_gans import health

        health.check_finite(self.model, logs, step)
        self.last_saved = step
        if not distribute.is_chief():
            # Under MultiWorkerMirroredStrategy reading the metrics' SyncOnRead
            # sums is a cross-worker collective: every worker must read the same
            # variables in the same order as the chief does, or the chief hangs
            # or fails ("Collective ops is aborted"). Only the chief writes.
            for variables in training_variables(self.model).values():
                for variable in variables:
                    _to_numpy(variable)
            return
        meta = {
            "global_step": int(step), "epoch": int(epoch), "step_in_epoch": int(in_epoch),
            "steps_per_epoch": self.steps_per_epoch, "history": self.history,
        }
        self.last_path = self.manager.save(self.model, meta)


def resumable_fit(model, make_dataset, epochs, steps_per_epoch, start_step=0, callbacks=(), verbose=1):
    """`model.fit` from global step `start_step` to the end of epoch `epochs`.

    `make_dataset(start_batch)` must return the training stream from that
    batch on (endless). A start in the middle of an epoch runs that epoch's
    remaining steps as a fit of their own, then the following epochs.

    Returns:
        The number of fit calls made (0 when training was already complete).
    """
    epoch, step = divmod(int(start_step), int(steps_per_epoch))
    calls = 0
    if epoch < epochs and step:
        model.fit(
            make_dataset(start_step), initial_epoch=epoch, epochs=epoch + 1,
            steps_per_epoch=steps_per_epoch - step, callbacks=list(callbacks), verbose=verbose,
            shuffle=False,  # the stream is shuffled already; Keras would warn that shuffle=True is ignored
        )
        calls += 1
        epoch += 1
        if model.stop_training:
            return calls
    if epoch < epochs:
        model.fit(
            make_dataset(epoch * steps_per_epoch), initial_epoch=epoch, epochs=epochs,
            steps_per_epoch=steps_per_epoch, callbacks=list(callbacks), verbose=verbose, shuffle=False,
        )
        calls += 1
    return calls


def describe_resume(meta, path, epochs, steps_per_epoch):
    """The one line a resumed run prints."""
    epoch, step = divmod(meta["global_step"], steps_per_epoch)
    if epoch >= epochs:
        return f"resuming from {path}: all {epochs} epochs already trained ({meta['global_step']} steps)"
    return (
        f"resuming from {path}: epoch {epoch + 1}/{epochs}, step {step}/{steps_per_epoch} "
        f"({meta['global_step']} steps done)"
    )
