"""TensorBoard logging of a GAN run: `tensorboard --logdir OUTPUT_DIR/tensorboard`.

Written by `TensorBoardMonitor`:

  train/<metric>        every `every` steps, against the global step: the
                        epoch's running means Keras logs (d_loss, g_loss,
                        d_real, d_fake, d_grad_norm, g_grad_norm, and
                        wasserstein, gradient_penalty where the model has them)
  epoch/<metric>        the same metrics' epoch means, against the epoch
  learning_rate/d, /g   both optimisers' learning rates (at both frequencies)
  samples/fixed_latents the fixed-latent sample grid, every epoch
  health/...            health-check values and warnings (`report`)

A resumed run appends a new event file to the same folder. The steps it
repeats (those between the checkpoint it resumed from and the kill) are
written again, with the same values as training is exact, so TensorBoard
may show such a step twice.
"""

import os

import keras
import numpy as np

from keras_gans.callbacks.class_grid import grid_picture
from keras_gans.callbacks.step import StepCallback


def learning_rate(optimizer):
    """The optimiser's current learning rate as a float (schedules evaluated)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class TensorBoardMonitor(StepCallback):
    """Writes losses, D outputs, gradient norms, learning rates and sample grids for TensorBoard.

    Args:
        log_dir: the event files' folder.
        steps_per_epoch: train steps in one epoch.
        start_step: the global step training starts (resumes) from.
        every: write the step-level scalars every this many steps (0: never).
        grid_images: images in the fixed-latent grid.
        seed: seed of the fixed latents (the same as the saved sample grids').
        class_names: row labels of a conditional model's grid (one class per row).

    Example:
        model.fit(dataset, steps_per_epoch=100, epochs=5,
                  callbacks=[TensorBoardMonitor("runs/x/tensorboard", 100)])
    """

    def __init__(self, log_dir, steps_per_epoch, start_step=0, every=50, grid_images=25, seed=0, class_names=None):
        super().__init__(steps_per_epoch, start_step)
        self.class_names = class_names
        self.log_dir = log_dir
        self.every = int(every)
        self.grid_images = int(grid_images)
        self.seed = seed
        self._writer = None

    @property
    def writer(self):
        if self._writer is None:
            import tensorflow as tf

            os.makedirs(self.log_dir, exist_ok=True)
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def report(self, tag, value, step, text=None):
        """Writes one scalar (and optionally a text note) now; used by the health checks."""
        import tensorflow as tf

        with self.writer.as_default():
            tf.summary.scalar(tag, float(value), step=int(step))
            if text is not None:
                tf.summary.text(tag + "/message", text, step=int(step))
        self.writer.flush()

    def _scalars(self, prefix, logs, step):
        import tensorflow as tf

        with self.writer.as_default():
            for name, value in (logs or {}).items():
                tf.summary.scalar(f"{prefix}/{name}", float(value), step=step)
            tf.summary.scalar("learning_rate/d", learning_rate(self.model.d_optimizer), step=step)
            tf.summary.scalar("learning_rate/g", learning_rate(self.model.g_optimizer), step=step)

    def on_train_batch_end(self, batch, logs=None):
        step = self.global_step(batch)
        if self.every and step % self.every == 0:
            self._scalars("train", logs, step)

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        self._scalars("epoch", logs, epoch + 1)
        # The average's statistics as trained: measuring standing ones every epoch costs training time.
        grid = grid_picture(self.model, self.grid_images, self.seed, self.class_names, standing_statistics=False)
        with self.writer.as_default():
            tf.summary.image("samples/fixed_latents", grid[np.newaxis], step=epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()

