"""StepCallback: the base of the callbacks that count global train steps across resumptions."""

import keras


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
