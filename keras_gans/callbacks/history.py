"""LossHistory: the per-epoch logs of a run, kept in history.json and plotted in loss.png."""

import keras

from keras_gans import images as image_utils
from keras_gans.training.run_dir import RunDir


class LossHistory(keras.callbacks.Callback):
    """Writes the per-epoch logs to `history.json` and their plot to `loss.png` after every epoch.

    Written each epoch (atomically), so a run killed later keeps its history.

    The run's one record of its history: the checkpointer records the epochs
    this callback has completed (keras_gans.callbacks.checkpointer).

    Args:
        output_dir: the run folder for the two files (a path or a `RunDir`).
        history: an earlier {name: [values]} to extend (a resumed run).
    """

    def __init__(self, output_dir, history=None):
        super().__init__()
        self.run_dir = output_dir if isinstance(output_dir, RunDir) else RunDir(output_dir)
        self.output_dir = self.run_dir.root
        self.history = {k: list(v) for k, v in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.run_dir.write_json_atomic(self.run_dir.history, self.history, indent=1)
        image_utils.save_loss_plot(self.history, self.run_dir.loss_plot)
