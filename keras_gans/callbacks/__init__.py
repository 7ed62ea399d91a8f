"""Keras callbacks for GAN runs, one module each: weight clipping (`clipping`), sample grids and
GIF (`samples`), loss history (`history`), the global-step base (`step`), a training-time budget
(`time_budget`) and the checkpointer
(`checkpointer`). Health checks and TensorBoard logging are keras_gans.health and keras_gans.monitoring.

`from keras_gans.callbacks import WeightClipping, SampleGrids, LossHistory` works as before
(this package replaces the former callbacks.py).
"""

from keras_gans.callbacks.clipping import WeightClipping
from keras_gans.callbacks.history import LossHistory
from keras_gans.callbacks.samples import SampleGrids
from keras_gans.callbacks.step import StepCallback
from keras_gans.callbacks.time_budget import TimeBudget

__all__ = ["WeightClipping", "SampleGrids", "LossHistory", "StepCallback", "TimeBudget", "Checkpointer"]


def __getattr__(name):
    # Imported on first use: the checkpointer needs keras_gans.health, which
    # itself builds on callbacks.step, so importing it here would be a cycle.
    if name == "Checkpointer":
        from keras_gans.callbacks.checkpointer import Checkpointer

        return Checkpointer
    raise AttributeError(f"module 'keras_gans.callbacks' has no attribute {name!r}")
