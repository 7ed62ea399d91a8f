"""Health checks of a GAN run: divergence stops it, the classic failures are reported.

- A NaN or Inf in a logged loss or in a weight stops training at once
  (`TrainingDivergedError`, naming the step); no checkpoint is written after
  it, so the last good one stays the newest.
- A discriminator whose loss sits near zero for many steps (it has won and
  the generator gets no useful gradient) is reported as a warning. Only for
  the BCE models: a Wasserstein critic's loss near zero is no failure.
- A generator whose batch has collapsed to near-identical images (mode
  collapse) is reported as a warning: the model logs `g_diversity`, the
  per-pixel standard deviation across the generator's training batch,
  averaged over pixels (in [-1, 1] pixel units; 0 when all images are
  identical), and its epoch mean is compared with a floor at each epoch end.
  The training batch, not images generated in inference mode: early in
  training BatchNorm's moving statistics are still far from the batch ones,
  and inference-mode images look collapsed when they are not.
- A generator that has saturated, drawing one flat colour whatever its input
  (what a learning rate far too high does to the BCE models: tanh pinned at
  -1 or +1, every gradient exactly zero, no NaN ever appears), stops training
  like a NaN does. Checked only when the epoch's `g_diversity` is below the
  floor, on images generated in inference mode: flat images pinned at -1 or
  +1 are that failure; a collapse to shapes, or to flat grey, only warns.

Warnings go to the `keras_gans` logger and, given a `report` function, to
TensorBoard. The checks only read logs and weights, so they do not change
what is trained.
"""

import logging
import math

import numpy as np

from keras_gans.callbacks.step import StepCallback
from keras_gans.errors import UserError

logger = logging.getLogger("keras_gans")


class TrainingDivergedError(UserError):
    """Training produced a NaN or Inf; the message names the step and what to do."""


def check_finite(model, logs, step):
    """Raises `TrainingDivergedError` if a logged value or a model/optimiser variable is not finite."""
    _check_logs(logs, step)
    for variable in model.variables:
        if not np.all(np.isfinite(np.asarray(variable))):
            raise _diverged(f"weight {variable.path} holds NaN or Inf", step)


def _check_logs(logs, step):
    bad = sorted((name for name, value in (logs or {}).items() if not _finite(value)),
                 key=lambda name: (not name.endswith("loss"), name))  # losses first: they are the cause
    if bad:
        others = f" ({', '.join(bad[1:])} too)" if bad[1:] else ""
        raise _diverged(f"{bad[0]} is {float(logs[bad[0]])}", step, others)


def _finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number: nothing to check


def _diverged(what, step, details=""):
    return TrainingDivergedError(
        f"training diverged: {what} at step {step}{details}; stopped without checkpointing it (earlier checkpoints, if any, are kept). "
        "Lower --d_lr/--g_lr (or check the data) and start over with --restart"
    )


# The mean per-image standard deviation (pixels in [-1, 1]) below which a
# generator's images count as one flat colour. A dataset of flat images of one
# colour is not something a GAN is trained on; real images' spread is ~0.3-0.8.
FLAT_IMAGE_STD = 0.01
# |pixel| at or above which tanh's gradient is below 0.02: a saturated pixel.
SATURATED_PIXEL = 0.99


def _inference_images(model, count=16):
    """`count` images from the model's (sampling) generator, or None if it cannot generate them."""
    generate = getattr(model, "generate", None)
    if generate is None:
        return None
    try:
        return np.asarray(generate(count, seed=0), dtype=np.float32)
    except Exception:  # a user's model with another generate(): the check is a bonus, never a new failure
        return None


def _is_wasserstein(model):
    """A critic's loss near zero is no failure; models say their loss kind (`loss_kind`),
    older ones are recognised by class."""
    kind = getattr(model, "loss_kind", None)
    if kind is not None:
        return kind == "wasserstein"
    from keras_gans.models.wgan import WGAN

    return isinstance(model, WGAN)


class HealthMonitor(StepCallback):
    """Stops on NaN/Inf, warns about a discriminator stuck near zero loss and about collapse.

    Args:
        steps_per_epoch: train steps in one epoch.
        start_step: the global step training starts (resumes) from.
        d_loss_floor: a BCE discriminator loss below this counts as "near zero".
        d_loss_patience: warn after this many consecutive steps near zero.
        diversity_floor: warn when an epoch's mean `g_diversity` falls below this.
        report: optional `report(tag, value, step)` (e.g. `TensorBoardMonitor.report`).

    Example:
        model.fit(dataset, steps_per_epoch=100, callbacks=[HealthMonitor(100, d_loss_floor=1e-3)])
    """

    def __init__(self, steps_per_epoch, start_step=0, d_loss_floor=0.01, d_loss_patience=200,
                 diversity_floor=0.02, report=None):
        super().__init__(steps_per_epoch, start_step)
        self.d_loss_floor = float(d_loss_floor)
        self.d_loss_patience = int(d_loss_patience)
        self.diversity_floor = float(diversity_floor)
        self.report = report
        self.low_d_loss_steps = 0
        self.warnings = []
        self._previous = None  # (step in epoch, running mean of d_loss)

    def on_train_begin(self, logs=None):
        self.check_d_loss = not _is_wasserstein(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._previous = None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = self.global_step(batch)
        _check_logs(logs, step)
        if self.check_d_loss and "d_loss" in logs:
            self._watch_d_loss(self._latest_d_loss(batch, float(logs["d_loss"])), step)

    def _latest_d_loss(self, batch, running_mean):
        # Keras logs the epoch's running mean; the latest steps' own loss is
        # recovered from two consecutive means.
        n = self.step_in_epoch(batch)
        previous, self._previous = self._previous, (n, running_mean)
        if previous is None or previous[0] >= n:
            return running_mean
        m, mean = previous
        return (running_mean * n - mean * m) / (n - m)

    def _watch_d_loss(self, d_loss, step):
        self.low_d_loss_steps = self.low_d_loss_steps + 1 if d_loss < self.d_loss_floor else 0
        if self.low_d_loss_steps == self.d_loss_patience:
            self.warn(
                "health/d_loss_near_zero", step,
                f"discriminator loss below {self.d_loss_floor} for {self.d_loss_patience} steps (step {step}): "
                "D is winning and G learns little; try a lower --d_lr, --label_smoothing=0.1 or --instance_noise",
            )

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_epoch
        check_finite(self.model, logs, step)
        if "g_diversity" not in (logs or {}):
            return
        diversity = float(logs["g_diversity"])
        if diversity < self.diversity_floor:
            self._stop_if_flat(diversity, step)
            self.warn(
                "health/collapse", epoch + 1,
                f"generator collapse at epoch {epoch + 1}: its images are near-identical (diversity "
                f"{diversity:.4f} < {self.diversity_floor}); see the sample grids",
            )

    def _stop_if_flat(self, diversity, step):
        images = _inference_images(self.model)
        if images is None:
            return
        texture = float(np.mean(np.std(images.reshape(len(images), -1), axis=1)))
        saturated = float(np.mean(np.abs(images) >= SATURATED_PIXEL))
        # Flat AND pinned at the ends of tanh: a flat grey generator (a collapse
        # it can climb out of) only warns.
        if texture < FLAT_IMAGE_STD and saturated >= 0.99:
            raise _diverged(
                f"the generator draws one flat colour for every input (pixel values {float(images.min()):.2f} to "
                f"{float(images.max()):.2f}, spread within an image {texture:.4f}, across images {diversity:.4f}: "
                "saturated, its gradients are zero and it cannot recover)", step)

    def warn(self, tag, step, message):
        self.warnings.append(message)
        logger.warning("%s", message)
        if self.report:
            self.report(tag, 1.0, step, text=message)
