"""TimeBudget: train for a number of minutes instead of (or as well as) a number of epochs.

An epoch count is sized for one machine: the folder64 preset's "10 minutes on
2 CPU cores" was 21 epochs on a float32 CPU and is ~100 on one with bfloat16
(BENCHMARKS.md, folder64 round 8). A budget lets the same preset use whatever
machine it runs on: `python train.py ... --epochs=300 --max_minutes=10`
trains until 10 minutes of training have passed or 300 epochs are done,
whichever comes first, then saves and exports as usual.

The clock counts training only: every `fit` call from its start to its end
(so the first step's tracing and the callbacks' grids and checkpoints count),
not loading the data before it nor the export after it. The time spent is
saved in every checkpoint (`train_seconds`), so a resumed run gets only what
is left of its budget: a pre-empted 10-minute run resumed twice still
trains for 10 minutes in all (less the steps after its last checkpoint, which
were lost with their time).
"""

import sys
import time

import keras

from keras_gans import distribute


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` at the end of the first train step at which `minutes` of training have passed.

    Without `minutes` it only keeps the clock (`seconds_spent`), which the
    checkpointer saves so a later budget knows what a resumed run has spent.

    Args:
        minutes: the training time allowed, over all fit calls and resumptions; None: no limit.
        spent_seconds: training time already spent (from the checkpoint a run resumes from).
        clock: seconds, monotonic (injected by tests).
        stream: where the one line saying training stopped goes (default: stdout, on the chief only).

    Under MultiWorkerMirroredStrategy the workers' clocks differ, and a worker
    that stopped alone would leave the others waiting in a collective: there the
    budget is checked at epoch ends only, and all workers stop if any is over it.
    """

    def __init__(self, minutes=None, spent_seconds=0.0, clock=time.monotonic, stream=None):
        super().__init__()
        if minutes is not None and not minutes > 0:
            raise ValueError(f"minutes must be positive, got {minutes!r}")
        self.minutes = minutes
        self._spent_before = float(spent_seconds)
        self._clock = clock
        self._started = None
        self._stream = stream
        self.stopped = False  # True once the budget stopped training

    @property
    def seconds_spent(self):
        """Training seconds so far, including those of earlier fit calls and the resumed run's."""
        running = self._clock() - self._started if self._started is not None else 0.0
        return self._spent_before + running

    @property
    def exhausted(self):
        return self.minutes is not None and self.seconds_spent >= 60.0 * self.minutes

    def on_train_begin(self, logs=None):
        self._started = self._clock()

    def on_train_end(self, logs=None):
        if self._started is not None:
            self._spent_before = self.seconds_spent
            self._started = None

    def on_train_batch_end(self, batch, logs=None):
        if self.minutes is not None and not self._multi_worker() and self.exhausted:
            self._stop()

    def on_epoch_end(self, epoch, logs=None):
        if self.minutes is None or not self._multi_worker():
            return
        if distribute.agreed_any(self.model.distribute_strategy, self.exhausted):
            self._stop()

    def _multi_worker(self):
        return distribute.is_multi_worker(self.model.distribute_strategy)

    def _stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.model.stop_training = True
        if distribute.is_chief():
            stream = self._stream or sys.stdout
            stream.write(f"\ntime budget reached: {self.seconds_spent / 60:.1f} of {self.minutes:g} minutes of "
                         "training; saving and exporting\n")
            stream.flush()
