"""callbacks.time_budget: --max_minutes stops training at the budget, counts resumed time, and a spent
run's rerun trains nothing."""

import io
import json
import os

import keras
import numpy as np
import pytest

from keras_gans.callbacks.time_budget import TimeBudget
from keras_gans.errors import UserError
from keras_gans.training import run as run_lib
from keras_gans.training.checkpoint import CheckpointManager, read_checkpoint
from conftest import tiny_config


class FakeClock:
    """A clock the test moves: each train step 'takes' `step_seconds`."""

    def __init__(self, step_seconds):
        self.now = 1000.0
        self.step_seconds = step_seconds

    def __call__(self):
        return self.now


class Tick(keras.callbacks.Callback):
    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def on_train_batch_end(self, batch, logs=None):
        self.clock.now += self.clock.step_seconds


def _fit(budget, clock, epochs=3, steps_per_epoch=10):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((40, 2), "float32")
    # Tick first: the budget sees each step's time once the step is done.
    model.fit(x, x[:, :1], batch_size=4, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0,
              callbacks=[Tick(clock), budget])
    return int(model.optimizer.iterations.numpy())


def test_stops_at_the_first_step_that_reaches_the_budget():
    clock = FakeClock(step_seconds=7.0)
    budget = TimeBudget(minutes=1, clock=clock, stream=io.StringIO())
    # 9 steps of 7 s are 63 s >= 60 s; 8 steps are 56 s.
    assert _fit(budget, clock) == 9
    assert budget.stopped and budget.exhausted
    assert budget.seconds_spent == pytest.approx(63.0)
    assert "time budget reached: 1.1 of 1 minutes" in budget._stream.getvalue()


def test_time_spent_before_counts_against_the_budget():
    clock = FakeClock(step_seconds=7.0)
    budget = TimeBudget(minutes=1, spent_seconds=50.0, clock=clock, stream=io.StringIO())
    assert _fit(budget, clock) == 2  # 50 + 7 < 60 <= 50 + 14
    assert budget.seconds_spent == pytest.approx(64.0)


def test_without_minutes_it_only_keeps_the_clock_over_fit_calls():
    clock = FakeClock(step_seconds=2.0)
    budget = TimeBudget(clock=clock)
    assert _fit(budget, clock, epochs=2) == 20
    assert _fit(budget, clock, epochs=1) == 10
    assert not budget.stopped and not budget.exhausted
    assert budget.seconds_spent == pytest.approx(60.0)  # 30 steps of 2 s, over two fit calls


def test_a_budget_longer_than_the_epochs_leaves_training_alone():
    clock = FakeClock(step_seconds=1.0)
    budget = TimeBudget(minutes=10, clock=clock)
    assert _fit(budget, clock) == 30 and not budget.stopped


def test_bad_minutes():
    with pytest.raises(ValueError, match="positive"):
        TimeBudget(minutes=0)
    with pytest.raises(UserError, match="--max_minutes must be >= 0"):
        run_lib.run(tiny_config("unused", max_minutes=-1))


def _meta(run_dir):
    newest = CheckpointManager(os.path.join(run_dir, "checkpoints")).checkpoints()[-1]
    return read_checkpoint(newest)[0]


def test_a_run_stops_at_max_minutes_saves_and_a_rerun_trains_only_with_more_minutes(tmp_path, capsys):
    run_dir = tmp_path / "run"
    # 0.001 minutes (0.06 s) is over after the first step, which traces the train step.
    config = tiny_config(run_dir, epochs=3, steps_per_epoch=20, max_minutes=0.001, tensorboard=False)
    run_lib.run(config)
    meta = _meta(run_dir)
    assert 1 <= meta["global_step"] < 20, meta["global_step"]  # stopped inside the first epoch
    assert meta["train_seconds"] >= 0.06
    assert "time budget reached" in capsys.readouterr().out
    saved_at = os.stat(run_dir / "model.keras").st_mtime_ns  # saved as at the end of any run

    run_lib.run(config)  # the budget is spent: nothing to train, nothing saved again
    out = capsys.readouterr().out
    assert "nothing to do" in out and "(--max_minutes=0.001)" in out and "raise --max_minutes" in out, out
    assert "its 0.001-minute training budget is already spent" in out, out  # the resume line says so first
    assert _meta(run_dir)["global_step"] == meta["global_step"]
    assert os.stat(run_dir / "model.keras").st_mtime_ns == saved_at

    # A bigger budget resumes the run where it stopped and finishes its epochs.
    run_lib.run(tiny_config(run_dir, epochs=3, steps_per_epoch=20, max_minutes=60, tensorboard=False))
    assert "of its 60 training minutes left" in capsys.readouterr().out
    final = _meta(run_dir)
    assert final["global_step"] == 60 and final["train_seconds"] > meta["train_seconds"]
    assert os.stat(run_dir / "model.keras").st_mtime_ns != saved_at
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["d_loss"]) == 3  # the epoch the budget cut is counted once


def test_max_minutes_zero_lifts_a_budget(tmp_path):
    # What `--flagfile=configs/quickstart.flags --max_minutes=0 --epochs=N` relies on: epochs alone decide.
    run_lib.run(tiny_config(tmp_path / "run", epochs=2, steps_per_epoch=3, max_minutes=0, tensorboard=False))
    meta = _meta(tmp_path / "run")
    assert meta["global_step"] == 6 and meta["train_seconds"] > 0
