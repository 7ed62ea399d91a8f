"""training.run: bad settings fail before any work, the optimiser overrides, the quality metric,
the build the benchmarks share; the old import paths still work."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gans.errors import UserError
from keras_gans.training import run as run_lib
from conftest import REPO_ROOT, tiny_config


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"model": "stylegan"}, "unknown --model"),
        ({"dataset": "mnist"}, "unknown dataset spec"),
        ({"batch_size": 1000}, "lower --batch_size"),
        ({"model": "wgan", "batch_size": 32}, "lower --batch_size"),  # 5 x 32 > 128 images
        ({"epochs": -1}, "--epochs must be positive"),
        ({"d_lr": 0.0}, "--d_lr must be positive"),
        ({"g_lr": -1e-4}, "--g_lr must be positive"),
        ({"beta_1": 1.5}, "--beta_1 must be in"),
        ({"model": "wgan", "beta_1": 0.5}, "applies to Adam"),
        ({"image_size": 32, "channels": 3}, "only folder: and tfds: datasets are resized"),
        ({"label_smoothing": 1.0}, "--label_smoothing"),
        ({"quality_metric": "is"}, "--quality_metric"),
        ({"quality_every": 0}, "--quality_every"),
        ({"r1_interval": 0}, "--r1_interval must be positive"),
        ({"r1_interval": 16}, r"R1 is off: set r1_gamma > 0 \(--r1_gamma\)"),
    ],
)
def test_bad_settings_fail_before_training(tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        run_lib.run(tiny_config(tmp_path / "run", **overrides))
    assert not (tmp_path / "run" / "model.keras").exists()


def test_empty_folder_dataset(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        run_lib.run(tiny_config(tmp_path / "run", dataset=f"folder:{tmp_path / 'images'}"))


def test_learning_rate_and_beta_overrides_reach_the_optimisers(tmp_path):
    import keras_gans

    model = keras_gans.DCGAN(width=8)
    d_optimizer, g_optimizer = run_lib.build_optimizers(model, tiny_config(tmp_path, d_lr=1e-3, beta_1=0.3))
    assert float(d_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(g_optimizer.learning_rate) == pytest.approx(2e-4)  # the article's default kept
    assert d_optimizer.beta_1 == g_optimizer.beta_1 == 0.3


def test_quality_metric_reaches_the_history_and_keeps_the_best_generator(tmp_path):
    config = tiny_config(tmp_path / "run", max_images=None, steps_per_epoch=2, epochs=2, quality_metric="kid",
                         tensorboard=False)
    result = run_lib.run(config)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["kid"]) == 2 and all(np.isfinite(history["kid"]))
    assert result.history["kid"] == history["kid"]
    best = keras.models.load_model(tmp_path / "run" / "best_generator.keras")
    assert best.output_shape == (None, 28, 28, 1)


def test_quality_metric_without_a_classifier_fails_before_training(tmp_path):
    # 128 images are not the packaged classifier's dataset: no classifier, and the command to train one.
    with pytest.raises(UserError, match="python -m keras_gans.features --train"):
        run_lib.run(tiny_config(tmp_path / "run", quality_metric="fid"))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_build_is_compiled_seeded_and_has_its_optimiser_slots(tmp_path):
    config = tiny_config(tmp_path, model="wgan", d_lr=1e-3, jit_compile=False)
    model = run_lib.build(config, (28, 28, 1))
    assert model.d_optimizer.built and model.g_optimizer.built  # slots exist before the first step
    assert float(model.d_optimizer.learning_rate) == pytest.approx(1e-3)
    again = run_lib.build(config, (28, 28, 1))  # the same seed: the same initial weights
    for a, b in zip(model.generator.weights, again.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_benchmark_worker_builds_through_run_build(monkeypatch):
    """benchmarks/worker.py trains what train.py would: its model comes from training.run.build."""
    sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))
    import worker

    calls = []
    real_build = run_lib.build
    monkeypatch.setattr(run_lib, "build", lambda config, shape, **options: calls.append(config)
                        or real_build(config, shape, **options))
    source = type("Source", (), {"name": "t", "images": np.zeros((640, 28, 28, 1), np.uint8),
                                  "image_shape": (28, 28, 1)})()
    ours = worker.Ours("wgan", source, seed=3, jit_compile=False, precision="float32")
    assert len(calls) == 1 and calls[0].model == "wgan" and calls[0].seed == 3
    assert (calls[0].precision, calls[0].jit_compile) == ("float32", False)
    assert ours.batch_size == 128 and ours.n_critic == 5


@pytest.mark.slow
@pytest.mark.parametrize("script", ["worker.py", "throughput.py", "quality_at_equal_time.py", "user_networks.py"])
def test_benchmark_scripts_start(script):
    from conftest import subprocess_env

    done = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "benchmarks", script), "--help"],
                          capture_output=True, text=True, timeout=120, env=subprocess_env())
    assert done.returncode == 0 and "usage" in done.stdout, done.stderr[-2000:]


def test_old_import_paths_still_work():
    from keras_gans import callbacks, checkpoints, config, train_lib
    from keras_gans.callbacks.checkpointer import Checkpointer
    from keras_gans.training import checkpoint, resume, validate

    assert train_lib.run is run_lib.run and train_lib.TrainConfig is config.TrainConfig
    assert train_lib.validate is validate.validate and train_lib.build_model is run_lib.build_model
    assert train_lib.build_optimizers is run_lib.build_optimizers
    assert checkpoints.CheckpointManager is checkpoint.CheckpointManager
    assert checkpoints.build_optimizers is checkpoint.build_optimizer_slots  # the renamed one
    assert checkpoints.Checkpointer is Checkpointer and checkpoints.resumable_fit is resume.resumable_fit
    assert checkpoints.RUN_CONTROL_FIELDS is config.RUN_CONTROL_FIELDS
    assert {"WeightClipping", "SampleGrids", "LossHistory"} <= set(dir(callbacks))
    assert callbacks.Checkpointer is Checkpointer
    for shim in (train_lib, checkpoints):
        assert shim.__doc__.startswith("Moved")


def test_colour_folder_with_every_stabiliser_trains_through_run(tmp_path, shared_data):
    """The flags of the data path and the stabilisers reach the data and the model, and it trains."""
    from keras_gans.training.run import run

    config = tiny_config(
        tmp_path / "run", dataset=f"folder:{shared_data}/emoji-twitter", image_size=16, channels=3, crop="center",
        background="black", cache_dir=str(tmp_path / "cache"), max_images=64, batch_size=16, epochs=2,
        loss="hinge", spectral_norm=True, r1_gamma=1.0, diffaugment="color,translation,cutout", tensorboard=False,
    )
    result = run(config)
    model = result.model
    assert model.image_shape == (16, 16, 3)
    assert (model.loss_kind, model.spectral_norm, model.r1_gamma) == ("hinge", True, 1.0)
    assert model.diffaugment == ("color", "translation", "cutout") or model.diffaugment == "color,translation,cutout"
    history = result.history
    assert len(history["d_loss"]) == 2 and all(np.isfinite(history["r1_penalty"]))
    assert os.listdir(tmp_path / "cache")  # the decoded folder was cached where asked
