"""Resuming a run: which runs may be resumed, the driver that resumes one, the line it prints.

Every run can be killed and resumed exactly: an epoch is a fixed number of
steps, the batches are a pure function of (seed, batch index), and a
checkpoint (keras_gans.training.checkpoint) holds all other state.

Keras' own `BackupAndRestore` is not used. Its weights file does hold both
optimisers (they are attributes of the model; checked with Keras 3.15), but
before loading it builds only `model.optimizer`, so the state of the two
unbuilt GAN optimisers is skipped with a mere warning; and it restarts an
interrupted epoch from its first batch (only the epoch number is restored)
with a fresh data iterator, so neither the data nor the weights match a run
left alone.
"""

import dataclasses
import os

from keras_gans.config import RUN_CONTROL_FIELDS
from keras_gans.errors import UserError
from keras_gans.training.run_dir import RunDir


def check_resumable(config):
    """Refuses an --output_dir that holds a run with other training settings (unless --restart).

    Only settings that change what is computed count; the `resumable` ones
    (keras_gans.config.RUN_CONTROL_FIELDS: epochs, logging, checkpointing...)
    may change between a run and its resumption.

    Raises:
        UserError: naming each differing flag, its old and new value.
    """
    run_dir = RunDir(config.output_dir)
    path = run_dir.config
    if config.restart or not run_dir.has_checkpoints():
        # Nothing trained there yet: a config.json left by a run that stopped
        # before its first checkpoint (say, on a mistyped --dataset) is replaced.
        return
    if not os.path.isfile(path):
        raise UserError(
            f"--output_dir={config.output_dir} holds checkpoints but no config.json, so whether they were trained "
            "with these settings cannot be checked: restore config.json, pass --restart to start over there, "
            "or choose another --output_dir"
        )
    try:
        saved = run_dir.read_json(path)
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


def resumable_fit(model, make_dataset, epochs, steps_per_epoch, start_step=0, callbacks=(), verbose=1,
                  budget=None):
    """`model.fit` from global step `start_step` to the end of epoch `epochs`.

    `make_dataset(start_batch)` must return the training stream from that
    batch on (endless). A start in the middle of an epoch runs that epoch's
    remaining steps as a fit of their own, then the following epochs. A
    `budget` (a `keras_gans.callbacks.time_budget.TimeBudget`, among the
    callbacks) that is already spent trains nothing.

    Returns:
        The number of fit calls made (0 when training was already complete).
    """
    epoch, step = divmod(int(start_step), int(steps_per_epoch))
    calls = 0
    if budget is not None and budget.exhausted:
        return calls
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


def describe_resume(meta, path, epochs, steps_per_epoch, budget=None):
    """The one line a resumed run prints; with a `TimeBudget` that has minutes, also what is left of them."""
    epoch, step = divmod(meta["global_step"], steps_per_epoch)
    if epoch >= epochs:
        return f"resuming from {path}: all {epochs} epochs already trained ({meta['global_step']} steps)"
    line = (
        f"resuming from {path}: epoch {epoch + 1}/{epochs}, step {step}/{steps_per_epoch} "
        f"({meta['global_step']} steps done)"
    )
    if budget is None or budget.minutes is None:
        return line
    if budget.exhausted:
        return f"{line}; its {budget.minutes:g}-minute training budget is already spent"
    return f"{line}; {budget.minutes - budget.seconds_spent / 60:.1f} of its {budget.minutes:g} training minutes left"
