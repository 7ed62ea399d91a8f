"""train.py end to end: every artefact a run writes exists and loads; bad flags fail in one line."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gans import train_lib
from keras_gans.errors import UserError
from conftest import REPO_ROOT

TINY = ["--dataset=sample", "--max_images=256", "--width=8", "--latent_dim=16", "--batch_size=32", "--epochs=2", "--verbose=0"]


def train(args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "train.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, env=env,
    )


def test_train_py_writes_every_artefact(tmp_path):
    flagfile = tmp_path / "tiny.flags"
    # With generator averaging, so the grids, model.keras and the export are checked to carry it.
    flagfile.write_text("\n".join(["--model=dcgan", *TINY, "--ema_decay=0.9"]) + "\n")
    out = tmp_path / "run"
    result = train([f"--flagfile={flagfile}", f"--output_dir={out}"])
    assert result.returncode == 0, result.stderr[-3000:]

    for epoch in (1, 2):
        for kind in ("fixed", "random"):
            with Image.open(out / "samples" / f"{kind}_epoch_{epoch:03d}.png") as grid:
                assert grid.size[0] > 5 * 28  # a 5x5 grid
    with Image.open(out / "samples" / "training.gif") as gif:
        assert gif.n_frames == 2
    with Image.open(out / "loss.png") as plot:
        assert plot.size[0] > 100
    history = json.loads((out / "history.json").read_text())
    assert len(history["d_loss"]) == 2 and len(history["g_loss"]) == 2
    assert "--width=8" in (out / "flags.txt").read_text()
    assert json.loads((out / "config.json").read_text())["model"] == "dcgan"
    assert "tensorflow" in json.loads((out / "versions.json").read_text())

    model = keras.models.load_model(out / "model.keras")
    assert model.generate(3, seed=0).shape == (3, 28, 28, 1)
    assert model.ema_decay == 0.9 and model.sampling_generator is model.ema_generator
    exported = tf.saved_model.load(str(out / "export" / "1"))
    z = tf.random.normal([3, 16])
    images = exported.signatures["serving_default"](z=z)["images"].numpy()
    np.testing.assert_allclose(images, model.ema_generator(z, training=False).numpy(), atol=1e-5)
    assert np.abs(images - model.generator(z, training=False).numpy()).max() > 1e-4  # the average, not G


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs=0"], "--epochs must be positive"),
        (["--dataset=idx:/no/such/dir"], "does not exist"),
    ],
)
def test_cli_bad_input_is_one_line_without_traceback(tmp_path, args, message):
    result = train([*TINY, f"--output_dir={tmp_path / 'run'}", *args], timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert not (tmp_path / "run" / "model.keras").exists()


def tiny_config(tmp_path, **overrides):
    settings = dict(dataset="sample", max_images=128, width=8, latent_dim=8, batch_size=16, epochs=1,
                    verbose=0, output_dir=str(tmp_path / "run"), export=False)
    settings.update(overrides)
    return train_lib.TrainConfig(**settings)


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
        ({"image_size": 32, "channels": 3}, "only folder: datasets are resized"),
        ({"label_smoothing": 1.0}, "--label_smoothing"),
        ({"quality_metric": "is"}, "--quality_metric"),
        ({"quality_every": 0}, "--quality_every"),
    ],
)
def test_bad_settings_fail_before_training(tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        train_lib.run(tiny_config(tmp_path, **overrides))
    assert not (tmp_path / "run" / "model.keras").exists()


def test_empty_folder_dataset(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        train_lib.run(tiny_config(tmp_path, dataset=f"folder:{tmp_path / 'images'}"))


def test_learning_rate_and_beta_overrides_reach_the_optimisers(tmp_path):
    import keras_gans

    model = keras_gans.DCGAN(width=8)
    d_optimizer, g_optimizer = train_lib.build_optimizers(model, tiny_config(tmp_path, d_lr=1e-3, beta_1=0.3))
    assert float(d_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(g_optimizer.learning_rate) == pytest.approx(2e-4)  # the article's default kept
    assert d_optimizer.beta_1 == g_optimizer.beta_1 == 0.3


def test_quality_metric_reaches_the_history_and_keeps_the_best_generator(tmp_path):
    config = tiny_config(tmp_path, max_images=None, steps_per_epoch=2, epochs=2, quality_metric="kid",
                         tensorboard=False)
    result = train_lib.run(config)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["kid"]) == 2 and all(np.isfinite(history["kid"]))
    assert result.history["kid"] == history["kid"]
    best = keras.models.load_model(tmp_path / "run" / "best_generator.keras")
    assert best.output_shape == (None, 28, 28, 1)


def test_quality_metric_without_a_classifier_fails_before_training(tmp_path):
    # 128 images are not the packaged classifier's dataset: no classifier, and the command to train one.
    with pytest.raises(UserError, match="python -m keras_gans.features --train"):
        train_lib.run(tiny_config(tmp_path, quality_metric="fid"))
    assert not (tmp_path / "run" / "checkpoints").exists()


def _flagfile_config(path):
    """The TrainConfig `train.py --flagfile=path` runs (parsed by train.py's own flags)."""
    sys.path.insert(0, REPO_ROOT)
    import train as train_module

    return train_module.config_from_flagfile(path)


@pytest.mark.parametrize("name", ["gan", "dcgan", "wgan", "wgan_gp"])
def test_cpu_presets_parse_build_and_stay_their_algorithm(name):
    """configs/cpu/<model>.flags: valid settings, the named model, and its algorithm (loss,
    clipping, penalty) kept; only sizes, optimiser settings, the clip bound and averaging differ."""
    preset = _flagfile_config(os.path.join(REPO_ROOT, "configs", "cpu", f"{name}.flags"))
    article = _flagfile_config(os.path.join(REPO_ROOT, "configs", f"{name}.flags"))
    assert preset.model == article.model == name
    train_lib.validate(preset)
    assert preset.dataset == "tfds:fashion_mnist"  # what they were tuned and measured on (BENCHMARKS.md)
    assert (preset.gp_weight, preset.label_smoothing) == (article.gp_weight, article.label_smoothing)
    assert preset.ema_decay > 0
    model = train_lib.build_model(preset, (28, 28, 1))
    d_optimizer, g_optimizer = train_lib.build_optimizers(model, preset)
    assert type(d_optimizer) is type(model.default_optimizers()[0])  # WGAN keeps RMSprop, the others Adam
    assert model.ema_generator is not None
    if name == "wgan":
        # Still weight clipping, at the preset's own bound (BENCHMARKS.md, rounds 5-9): every critic variable is clipped.
        assert model.clip_value == preset.clip_value > 0
        assert all(v.constraint is not None and v.constraint.clip_value == preset.clip_value
                   for v in model.discriminator.trainable_variables)
