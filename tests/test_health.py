"""Health checks: NaN stops the run and keeps the last good checkpoint; collapse and a winning D warn."""

import logging
import os

import keras
import numpy as np
import pytest

from keras_gans import health
from keras_gans.config import TrainConfig
from keras_gans.callbacks.checkpointer import Checkpointer
from keras_gans.training.checkpoint import CheckpointManager, read_checkpoint
from keras_gans.training.run import run
from conftest import tiny_model


def tiny_config(output_dir, **overrides):
    settings = dict(
        model="dcgan", width=8, latent_dim=16, batch_size=8, max_images=64, epochs=1, steps_per_epoch=6,
        checkpoint_every=2, export=False, verbose=0, grid_images=4, jit_compile=False, tensorboard=False,
        output_dir=str(output_dir),
    )
    settings.update(overrides)
    return TrainConfig(**settings)


class Poison(keras.callbacks.Callback):
    """Puts a NaN into one discriminator weight after global step `step`."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.step:
            kernel = self.model.discriminator.trainable_variables[0]
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))


def test_nan_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    with pytest.raises(health.TrainingDivergedError, match=r"d_loss is nan at step 4\b"):
        run(tiny_config(tmp_path), extra_callbacks=[Poison(step=3)])
    manager = CheckpointManager(os.path.join(tmp_path, "checkpoints"))
    # Step 2 was saved; step 4 (first NaN loss) and the epoch end were not.
    assert [os.path.basename(p) for p in manager.checkpoints()] == ["ckpt-00000002.npz"]
    meta, arrays = read_checkpoint(manager.checkpoints()[0])
    assert meta["global_step"] == 2
    assert all(np.all(np.isfinite(value)) for value in arrays.values())
    assert not os.path.exists(os.path.join(tmp_path, "model.keras"))


def test_nan_weight_is_never_checkpointed(tmp_path):
    # Even with the health checks off, a checkpoint refuses non-finite state.
    model = tiny_model()
    kernel = model.generator.trainable_variables[0]
    kernel.assign(np.where(np.arange(kernel.shape[-1]) == 1, np.inf, 0.0) * np.ones(kernel.shape, np.float32))
    checkpointer = Checkpointer(CheckpointManager(str(tmp_path)), steps_per_epoch=10)
    checkpointer.set_model(model)
    with pytest.raises(health.TrainingDivergedError, match=f"weight {kernel.path} holds NaN or Inf at step 4"):
        checkpointer.save(4, 0, 4, {"d_loss": 0.3})
    assert os.listdir(tmp_path) == []


class Collapse(keras.callbacks.Callback):
    """Makes the generator output a constant image: its last layer's kernel and bias are zeroed every step."""

    def on_train_batch_begin(self, batch, logs=None):
        for variable in self.model.generator.get_layer("to_image").trainable_variables:
            variable.assign(np.zeros(variable.shape, np.float32))


def health_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "keras_gans" and r.levelno == logging.WARNING]


def test_collapsed_generator_warns(tmp_path, caplog):
    # (tests/test_monitoring.py checks that a healthy run gives no warning.)
    with caplog.at_level(logging.WARNING, logger="keras_gans"):
        run(tiny_config(tmp_path, tensorboard=True, log_every=0), extra_callbacks=[Collapse()])
    warnings = health_warnings(caplog)
    assert len(warnings) == 1 and "generator collapse at epoch 1" in warnings[0], warnings

    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert "health/collapse" in events.Tags()["tensors"]
    assert "health/collapse/message" in events.Tags()["tensors"]


class Saturate(keras.callbacks.Callback):
    """What a huge learning rate does to a BCE generator: its output layer pinned at tanh's +1 for every input."""

    def on_train_batch_begin(self, batch, logs=None):
        kernel, bias = self.model.generator.get_layer("to_image").trainable_variables
        kernel.assign(np.zeros(kernel.shape, np.float32))
        bias.assign(np.full(bias.shape, 50.0, np.float32))


def test_a_saturated_generator_stops_the_run_as_diverged(tmp_path):
    # The collapse above (flat grey, tanh(0)) only warns: it can recover. Flat
    # white (tanh(50)) cannot: the run stops instead of exporting it.
    with pytest.raises(health.TrainingDivergedError,
                       match=r"the generator draws one flat colour for every input \(pixel values 1.00 to 1.00.* at step 6"):
        run(tiny_config(tmp_path), extra_callbacks=[Saturate()])
    assert not os.path.exists(os.path.join(tmp_path, "model.keras"))
    manager = CheckpointManager(os.path.join(tmp_path, "checkpoints"))
    assert max(read_checkpoint(p)[0]["global_step"] for p in manager.checkpoints()) < 6  # the epoch end was not saved


class FakeModel:
    """HealthMonitor reads only the model's type (BCE or Wasserstein) before the epoch end."""


def feed(monitor, per_step_losses):
    """Feeds the epoch running means Keras would log for these per-step D losses."""
    monitor.on_train_begin()
    monitor.on_epoch_begin(0)
    for batch, _ in enumerate(per_step_losses):
        running_mean = float(np.mean(per_step_losses[: batch + 1]))
        monitor.on_train_batch_end(batch, {"d_loss": running_mean, "g_loss": 5.0})


def test_discriminator_loss_near_zero_for_many_steps_warns(caplog):
    reports = []
    monitor = health.HealthMonitor(
        steps_per_epoch=100, d_loss_floor=0.01, d_loss_patience=5,
        report=lambda tag, value, step, text=None: reports.append((tag, step)),
    )
    monitor.set_model(FakeModel())
    # A healthy start: the running mean stays high long after D's own loss has dropped,
    # so only the recovered per-step loss can tell: it is near zero from step 11 on.
    losses = [1.3] * 10 + [0.001] * 6
    with caplog.at_level(logging.WARNING, logger="keras_gans"):
        feed(monitor, losses)
    assert len(monitor.warnings) == 1 and "below 0.01 for 5 steps (step 15)" in monitor.warnings[0]
    assert reports == [("health/d_loss_near_zero", 15)]
    assert health_warnings(caplog) == monitor.warnings

    calm = health.HealthMonitor(steps_per_epoch=100, d_loss_floor=0.01, d_loss_patience=5)
    calm.set_model(FakeModel())
    feed(calm, [1.3] * 10 + [0.001, 0.5] * 5)  # never 5 low steps in a row
    assert calm.warnings == []


def test_wasserstein_critic_loss_near_zero_is_no_warning():
    from keras_gans.models import MODELS

    monitor = health.HealthMonitor(steps_per_epoch=100, d_loss_floor=0.01, d_loss_patience=2)
    monitor.set_model(MODELS["wgan_gp"](image_shape=(28, 28, 1), width=8, latent_dim=8))
    feed(monitor, [0.0] * 5)
    assert monitor.warnings == []


def test_inf_in_logs_stops_with_the_step():
    monitor = health.HealthMonitor(steps_per_epoch=10, start_step=23)
    monitor.set_model(FakeModel())
    monitor.on_train_begin()
    monitor.on_epoch_begin(2)  # resumed at step 23: batch 0 of this fit is global step 24
    with pytest.raises(health.TrainingDivergedError, match=r"g_loss is inf at step 24;.*--restart"):
        monitor.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": float("inf")})


def test_d_loss_watch_follows_the_models_loss_kind():
    """A Wasserstein critic's loss near zero is no failure: `loss_kind` says so, or (models without
    the attribute) the WGAN class."""
    from keras_gans.models import MODELS

    def watches(model):
        monitor = health.HealthMonitor(steps_per_epoch=10)
        monitor.set_model(model)
        monitor.on_train_begin()
        return monitor.check_d_loss

    wgan, dcgan = MODELS["wgan"](width=8), tiny_model()
    assert not watches(wgan) and watches(dcgan)
    dcgan.loss_kind = "wasserstein"
    wgan.loss_kind = "hinge"
    assert not watches(dcgan) and watches(wgan)
