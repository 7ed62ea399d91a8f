"""Checkpointer: the callback that saves a run's checkpoints as it trains."""

from keras_gans import distribute
from keras_gans import health
from keras_gans.callbacks.step import StepCallback
from keras_gans.errors import UserError
from keras_gans.training.preemption import TrainingInterrupted
from keras_gans.training.checkpoint import to_numpy, training_variables


class Checkpointer(StepCallback):
    """Saves a checkpoint every `every` steps and at the end of every epoch.

    Put it after the callbacks that write an epoch's files (sample grids,
    history): the epoch-end checkpoint then says "this epoch is done" only
    once they are written. Non-finite state is never saved.

    Args:
        manager: a `keras_gans.training.checkpoint.CheckpointManager`.
        steps_per_epoch: train steps in one epoch.
        every: save every this many global steps; 0 saves at epoch ends only.
        resume: the meta of the checkpoint training resumes from, or None.
        history: the run's `LossHistory` callback (placed before this one), whose
            completed epochs each checkpoint records; None records none.
        stop: a `keras_gans.training.preemption.SignalStop`, or None. Once it has caught a
            SIGTERM/SIGINT, the step that is running is checkpointed and
            `TrainingInterrupted` is raised out of `fit`. A signal during an epoch's
            last step lets that epoch's writers finish first, so the epoch's grids
            and history entry are written, as in a run left alone. Under
            MultiWorkerMirroredStrategy a signal caught by any worker stops all
            of them after the same step (`distribute.agreed_stop_signal`).
        clock: the run's `keras_gans.callbacks.time_budget.TimeBudget`, whose training
            seconds so far each checkpoint records (`train_seconds`), so a resumed
            run's budget counts them; None records none.
    """

    def __init__(self, manager, steps_per_epoch, every=0, resume=None, history=None, stop=None, clock=None):
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
        self.history = history
        # The history of the epochs completed before the current one: what a
        # checkpoint taken inside an epoch (or at an early stop) records.
        self._completed = self._history_now()
        self.last_saved = self.start_step
        self.last_path = None
        self.stop = stop
        self.clock = clock

    def _history_now(self):
        return {k: list(v) for k, v in (self.history.history if self.history is not None else {}).items()}

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._completed = self._history_now()
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
        if in_epoch < self.steps_per_epoch:
            self._stop_if_signalled(step, self.epoch, in_epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        end = (epoch + 1) * self.steps_per_epoch
        if getattr(self, "last_step", end) < end:
            # Stopped early by another callback: the epoch is not done.
            self.save(self.last_step, epoch, self.last_step - epoch * self.steps_per_epoch, logs)
            return
        # The history callback, earlier in the list, has added this epoch's logs.
        self._completed = self._history_now()
        self.save(end, epoch + 1, 0, logs)
        self._stop_if_signalled(end, epoch + 1, 0, logs)

    def _stop_if_signalled(self, step, epoch, in_epoch, logs):
        if self.stop is None:
            return
        # Under multi-worker, a collective: every worker stops at the same step
        # whichever of them caught the signal.
        signum = distribute.agreed_stop_signal(self.model.distribute_strategy, self.stop.requested)
        if signum is None:
            return
        if self.last_saved != step:
            self.save(step, epoch, in_epoch, logs)
        # Reported as people count: epoch E (from 1), step S inside it.
        shown_epoch, shown_step = (epoch, self.steps_per_epoch) if in_epoch == 0 else (epoch + 1, in_epoch)
        raise TrainingInterrupted(signum, global_step=int(step), epoch=shown_epoch,
                                  step_in_epoch=shown_step,
                                  checkpoint=self.last_path if distribute.is_chief() else None)

    def save(self, step, epoch, in_epoch, logs):
        health.check_finite(self.model, logs, step)
        self.last_saved = step
        if not distribute.is_chief():
            # Under MultiWorkerMirroredStrategy reading the metrics' SyncOnRead
            # sums is a cross-worker collective: every worker must read the same
            # variables in the same order as the chief does, or the chief hangs
            # or fails ("Collective ops is aborted"). Only the chief writes.
            for variables in training_variables(self.model).values():
                for variable in variables:
                    to_numpy(variable)
            return
        meta = {
            "global_step": int(step), "epoch": int(epoch), "step_in_epoch": int(in_epoch),
            "steps_per_epoch": self.steps_per_epoch, "history": self._completed,
            # XLA or not changes the training noise: a resume keeps this path.
            "jit_compile": bool(getattr(self.model, "jit_compile", False)),
        }
        if self.clock is not None:
            meta["train_seconds"] = round(self.clock.seconds_spent, 3)
        self.last_path = self.manager.save(self.model, meta)
