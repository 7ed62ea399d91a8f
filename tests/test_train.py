"""train.py: its flags are generated from TrainConfig; end to end, every artefact a run writes
exists and loads; bad flags fail in one line; the CPU presets parse and keep their algorithm."""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags
from PIL import Image

from keras_gans.config import TrainConfig
from keras_gans.training import run as run_lib
from keras_gans.training.validate import requested_image_shape, validate
from conftest import REPO_ROOT, subprocess_env

sys.path.insert(0, REPO_ROOT)
import train as train_module  # noqa: E402

TINY = ["--dataset=sample", "--max_images=256", "--width=8", "--latent_dim=16", "--batch_size=32", "--epochs=2", "--verbose=0"]


def train(args, timeout=300):
    return subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "train.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, env=subprocess_env(),
    )


@pytest.mark.slow
def test_train_py_writes_every_artefact(tmp_path):
    flagfile = tmp_path / "tiny.flags"
    # With generator averaging, so the grids, model.keras and the export are checked to carry it.
    flagfile.write_text("\n".join(["--model=dcgan", *TINY, "--ema_decay=0.9"]) + "\n")
    out = tmp_path / "run"
    result = train([f"--flagfile={flagfile}", f"--output_dir={out}"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Assets written to" not in result.stderr  # TensorFlow's INFO export log is kept out of the output

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
    saved_flags = (out / "flags.txt").read_text()
    assert "--width=8" in saved_flags and "--ema_decay=0.9" in saved_flags
    assert "--test_tmpdir" not in saved_flags and "--hbm_oom_exit" not in saved_flags  # absl's and TF's own flags
    # flags.txt reruns the run: as a flagfile it gives the config the run was given.
    given = dataclasses.replace(train_module.config_from_flagfile(flagfile), output_dir=str(out))
    assert train_module.config_from_flagfile(out / "flags.txt") == given
    assert json.loads((out / "config.json").read_text())["model"] == "dcgan"
    assert "tensorflow" in json.loads((out / "versions.json").read_text())

    model = keras.models.load_model(out / "model.keras")
    assert model.generate(3, seed=0).shape == (3, 28, 28, 1)
    assert model.ema_decay == 0.9 and model.sampling_generator is model.ema_generator
    exported = tf.saved_model.load(str(out / "export" / "1"))
    z = tf.random.normal([3, 16])
    images = exported.signatures["serving_default"](z=z)["images"].numpy()
    np.testing.assert_allclose(images, model.sampling_network()(z, training=False).numpy(), atol=1e-5)
    assert np.abs(images - model.generator(z, training=False).numpy()).max() > 1e-4  # the average, not G


@pytest.mark.slow
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


def _flagfile_config(path):
    """The TrainConfig `train.py --flagfile=path` runs (parsed by train.py's own flags)."""
    return train_module.config_from_flagfile(path)


@pytest.mark.parametrize("name", ["gan", "dcgan", "wgan", "wgan_gp"])
def test_cpu_presets_parse_build_and_stay_their_algorithm(name):
    """configs/cpu/<model>.flags: valid settings, the named model, and its algorithm (loss,
    clipping, penalty) kept; only sizes, optimiser settings, the clip bound and averaging differ."""
    preset = _flagfile_config(os.path.join(REPO_ROOT, "configs", "cpu", f"{name}.flags"))
    article = _flagfile_config(os.path.join(REPO_ROOT, "configs", f"{name}.flags"))
    assert preset.model == article.model == name
    validate(preset)
    assert preset.dataset == "tfds:fashion_mnist"  # what they were tuned and measured on (BENCHMARKS.md)
    assert (preset.gp_weight, preset.label_smoothing) == (article.gp_weight, article.label_smoothing)
    assert preset.ema_decay > 0
    # 10 minutes whatever the CPU (BENCHMARKS.md, "... with a 10-minute budget"): the epoch count is only a cap,
    # above the 20-64 epochs the budget reaches on 2 bfloat16 cores, and the article's recipe keeps its epochs.
    assert preset.max_minutes == 10 and preset.epochs >= 100
    assert not article.max_minutes
    model = run_lib.build_model(preset, (28, 28, 1))
    d_optimizer, g_optimizer = run_lib.build_optimizers(model, preset)
    assert type(d_optimizer) is type(model.default_optimizers()[0])  # WGAN keeps RMSprop, the others Adam
    assert model.ema_generator is not None
    if name == "wgan":
        # Still weight clipping, at the preset's own bound (BENCHMARKS.md, rounds 5-9): every critic variable is clipped.
        assert model.clip_value == preset.clip_value > 0
        assert all(v.constraint is not None and v.constraint.clip_value == preset.clip_value
                   for v in model.discriminator.trainable_variables)


OTHER_FLAGFILES = ["quickstart.flags", "dcgan64.flags", "cpu/folder64.flags", "cpu/cdcgan.flags", "cpu/cwgan_gp.flags"]


@pytest.mark.parametrize("name", OTHER_FLAGFILES)
def test_every_other_flagfile_parses_validates_and_builds(name):
    """The README's other flag files: each a valid config whose model builds at the image shape it asks for
    (28x28x1 when it keeps the dataset's), with the settings its comments and BENCHMARKS.md describe."""
    config = _flagfile_config(os.path.join(REPO_ROOT, "configs", name))
    validate(config)
    shape = requested_image_shape(config) or (28, 28, 1)
    model = run_lib.build_model(config, shape, num_classes=10 if config.conditional else None)
    assert model.generator.output_shape[1:] == shape
    if name == "cpu/folder64.flags":  # sized for updates per CPU-minute, R1 from round 5 (BENCHMARKS.md, folder64)
        assert (shape, config.width, config.batch_size, config.d_lr, config.g_lr) == ((64, 64, 3), 16, 32, 3e-4, 9e-4)
        assert model.r1_gamma == 1.0 and "r1_penalty" in model.trackers
        assert (config.max_minutes, config.epochs) == (10, 300)  # the 10 minutes, as a budget (round 8)
        # Round 10: the output layer a resize-convolution (nearest x2, then a 3x3 conv), the rest transposed.
        assert config.resize_conv_layers == 1
        generator = model.generator
        assert isinstance(generator.get_layer("to_image_resize"), keras.layers.UpSampling2D)
        assert type(generator.get_layer("to_image")) is keras.layers.Conv2D
        assert isinstance(generator.get_layer("up1"), keras.layers.Conv2DTranspose)
    if name == "quickstart.flags":  # the issue's ~3 minutes, as a budget (BENCHMARKS.md, "Quickstart tuning", round 7)
        assert (config.max_minutes, config.epochs, config.width, config.batch_size) == (3, 100, 32, 32)


def test_every_config_field_is_a_flag_with_its_default_help_and_choices():
    fields = dataclasses.fields(TrainConfig)
    assert len(fields) >= 43
    for field in fields:
        flag = flags.FLAGS[field.name]
        assert flag.default == field.default, field.name
        assert flag.help.endswith(field.metadata["help"]), field.name  # enums prefix "<a|b>: "
        choices = field.metadata["choices"]
        assert getattr(flag.parser, "enum_values", None) == (list(choices) if choices else None), field.name
    # Help content kept as it was: the per-model defaults are in it.
    assert "dcgan 256" in flags.FLAGS["batch_size"].help and "5 for wgan" in flags.FLAGS["n_critic"].help
    # Unset flags give the dataclass defaults.
    assert train_module.config_from_flags() == TrainConfig()


@pytest.mark.parametrize("flag", ["--model=stylegan", "--precision=float64", "--split=validation",
                                  "--quality_metric=is"])
def test_choice_flags_refuse_other_values(flag):
    flags.FLAGS.unparse_flags()
    try:
        with pytest.raises(flags.IllegalFlagValueError, match="should be one of"):
            flags.FLAGS(["train.py", flag])
    finally:
        flags.FLAGS.unparse_flags()


def test_config_from_flagfile_reads_types_and_unset_values(tmp_path):
    path = tmp_path / "x.flags"
    path.write_text("--model=wgan\n--width=16\n--d_lr=3e-4\n--jit_compile=false\n--quality_metric=kid\n")
    config = train_module.config_from_flagfile(str(path))
    assert config == TrainConfig(model="wgan", width=16, d_lr=3e-4, jit_compile=False, quality_metric="kid")
    assert train_module.config_from_flags() == TrainConfig()  # the file's values do not stick
