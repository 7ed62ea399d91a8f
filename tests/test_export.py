"""keras_gans.serving.export: layout, signatures, errors of the exported generator.

One module fixture exports all four models (tiny widths; GAN actually fit for
one step, the others with randomised BatchNorm statistics so that inference
mode matters). One fresh Python process that imports only TensorFlow reloads
all four exports, while `saved_model_cli` runs beside it.
"""

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from _serving_cases import CASES, MAX_ABS_DIFF, NUM, SEED, Z_ROWS, assert_uint8_matches, build, export_cases, randomise

from keras_gans.errors import UserError
from keras_gans.models import MODELS, latent_vectors
from keras_gans.serving import export as export_lib
from keras_gans.serving.versions import next_version
from keras_gans.serving.warmup import WARMUP_FILE


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """{name: SimpleNamespace(model, path, z, reference outputs)} for the four models, exported once."""
    return export_cases(tmp_path_factory.mktemp("exports"))


FRESH_PROCESS = r"""
import json, sys
import numpy as np
import tensorflow as tf

paths, inputs_file, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
inputs = np.load(inputs_file)
arrays, meta = {}, {}

def call(signature, **kwargs):
    return {k: v.numpy() for k, v in signature(**kwargs).items()}

for name, path in paths.items():
    signatures = tf.saved_model.load(path).signatures
    generate = lambda n, s: call(signatures["generate"], num_images=tf.constant(n, tf.int32),
                                 seed=tf.constant(s, tf.int64))["images"]
    arrays[name + "/serving"] = call(signatures["serving_default"], z=tf.constant(inputs[name]))["images"]
    arrays[name + "/generate"] = generate(6, 3)
    arrays[name + "/generate_again"] = generate(6, 3)
    arrays[name + "/generate_other_seed"] = generate(6, 4)
    pngs = call(signatures["generate_png"], num_images=tf.constant(2), seed=tf.constant(3, tf.int64))["png_bytes"]
    arrays[name + "/png"] = np.stack([tf.io.decode_png(p).numpy() for p in pngs])
    arrays[name + "/interpolate"] = call(signatures["interpolate"], seed_start=tf.constant(0, tf.int64),
                                         seed_end=tf.constant(1, tf.int64), steps=tf.constant(3))["images"]
    errors = {}
    for bad in (0, -5, 1025):
        try:
            generate(bad, 0)
            errors[str(bad)] = None
        except tf.errors.InvalidArgumentError as error:
            errors[str(bad)] = error.message
    try:
        call(signatures["interpolate"], seed_start=tf.constant(0, tf.int64), seed_end=tf.constant(1, tf.int64),
             steps=tf.constant(1))
        errors["steps=1"] = None
    except tf.errors.InvalidArgumentError as error:
        errors["steps=1"] = error.message
    try:
        rows = np.zeros([1025, inputs[name].shape[1]], np.float32)
        call(signatures["serving_default"], z=tf.constant(rows))
        errors["z_rows=1025"] = None
    except tf.errors.InvalidArgumentError as error:
        errors["z_rows=1025"] = error.message
    meta[name] = {"signatures": sorted(signatures), "errors": errors}

meta["keras_gans_imported"] = any(m.split(".")[0] == "keras_gans" for m in sys.modules)
np.savez(out + ".npz", **arrays)
with open(out + ".json", "w") as f:
    json.dump(meta, f)
"""


def _saved_model_cli():
    found = shutil.which("saved_model_cli")
    # The console script's own module, where the script is not on PATH.
    return [found] if found else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


@pytest.fixture(scope="module")
def fresh(exports, tmp_path_factory):
    """Results of the fresh TensorFlow-only process, and `saved_model_cli show --all` output for WGAN-GP."""
    work = tmp_path_factory.mktemp("fresh")
    np.savez(work / "inputs.npz", **{name: case.z for name, case in exports.items()})
    paths = {name: case.path for name, case in exports.items()}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # cwd outside the repository and no PYTHONPATH: keras_gans is not even importable by accident.
    reload = subprocess.Popen(
        [sys.executable, "-c", FRESH_PROCESS, json.dumps(paths), str(work / "inputs.npz"), str(work / "out")],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    cli = subprocess.Popen(
        _saved_model_cli() + ["show", "--dir", exports["wgan_gp"].path, "--all"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reload_log, _ = reload.communicate(timeout=300)
    cli_out, cli_err = cli.communicate(timeout=300)
    assert reload.returncode == 0, reload_log[-3000:]
    assert cli.returncode == 0, cli_err[-3000:]
    with open(work / "out.json") as f:
        meta = json.load(f)
    return types.SimpleNamespace(
        arrays=dict(np.load(work / "out.npz")), meta=meta, cli=cli_out, work=work,
    )


# ----- fresh process: both signatures against the in-memory generator --------------


def test_fresh_process_imports_only_tensorflow(fresh):
    assert fresh.meta["keras_gans_imported"] is False
    for name in CASES:
        assert fresh.meta[name]["signatures"] == ["generate", "generate_png", "interpolate", "serving_default"]


@pytest.mark.parametrize("name", list(CASES))
def test_serving_default_equals_generator_in_inference_mode(exports, fresh, name):
    case = exports[name]
    served = fresh.arrays[name + "/serving"]
    height, width, channels = CASES[name][0]
    assert served.dtype == np.float32 and served.shape == (Z_ROWS, height, width, channels)
    assert np.abs(served - case.inference).max() < MAX_ABS_DIFF
    assert served.min() >= -1.0 and served.max() <= 1.0
    if name != "gan":
        # BatchNorm generators: training mode gives clearly different images,
        # so the match above really is inference mode.
        assert np.abs(served - case.training).max() > 1e-2


@pytest.mark.parametrize("name", list(CASES))
def test_generate_matches_model_generate(exports, fresh, name):
    generated = fresh.arrays[name + "/generate"]
    assert generated.shape == (NUM, *CASES[name][0])
    assert_uint8_matches(generated, exports[name].generated)
    # The signature's latents are exactly latent_vectors(NUM, latent_dim, SEED).
    z = latent_vectors(NUM, exports[name].model.latent_dim, SEED).numpy()
    assert_uint8_matches(generated, exports[name].model.generator(z, training=False).numpy())


@pytest.mark.parametrize("name", list(CASES))
def test_generate_is_deterministic_per_seed(fresh, name):
    first, again = fresh.arrays[name + "/generate"], fresh.arrays[name + "/generate_again"]
    other = fresh.arrays[name + "/generate_other_seed"]
    np.testing.assert_array_equal(first, again)
    assert np.mean(first != other) > 0.2  # another seed: other latents, other images
    # Different images within one batch too (each row its own latent).
    assert np.mean(first[0] != first[1]) > 0.2


@pytest.mark.parametrize("name", list(CASES))
def test_generate_png_and_interpolate(exports, fresh, name):
    pngs = fresh.arrays[name + "/png"]
    np.testing.assert_array_equal(pngs, fresh.arrays[name + "/generate"][:2])  # same seed: same first images
    steps = fresh.arrays[name + "/interpolate"]
    assert steps.shape == (3, *CASES[name][0]) and steps.dtype == np.uint8
    assert_uint8_matches(steps[0], exports[name].ends[0])
    assert_uint8_matches(steps[-1], exports[name].ends[1])
    assert np.mean(steps[1] != steps[0]) > 0.1 and np.mean(steps[1] != steps[2]) > 0.1


@pytest.mark.parametrize("name", list(CASES))
def test_signature_refuses_bad_counts(fresh, name):
    errors = fresh.meta[name]["errors"]
    for bad in ("0", "-5", "1025"):
        assert errors[bad] is not None and "num_images must be between 1 and 1024" in errors[bad]
    assert errors["z_rows=1025"] is not None and "at most 1024 rows of z" in errors["z_rows=1025"]
    assert errors["steps=1"] is not None and "steps must be between 2 and 1024" in errors["steps=1"]


def test_saved_model_cli_lists_documented_signatures(fresh):
    blocks = {
        match.group(1): match.group(2)
        for match in re.finditer(r"signature_def\['(\w+)'\]:\n(.*?)Method name is: (\S*)", fresh.cli, re.S)
    }

    def tensors(block, kind):
        found = re.findall(kind + r"\['(\w+)'\] tensor_info:\s+dtype: (\w+)\s+shape: (\([^)]*\))", block)
        return {name: (dtype, shape) for name, dtype, shape in found}

    # WGAN-GP export: latent_dim 16, images 32x32x3.
    expected = {
        "serving_default": ({"z": ("DT_FLOAT", "(-1, 16)")}, {"images": ("DT_FLOAT", "(-1, 32, 32, 3)")}),
        "generate": (
            {"num_images": ("DT_INT32", "()"), "seed": ("DT_INT64", "()")},
            {"images": ("DT_UINT8", "(-1, 32, 32, 3)")},
        ),
        "generate_png": (
            {"num_images": ("DT_INT32", "()"), "seed": ("DT_INT64", "()")},
            {"png_bytes": ("DT_STRING", "(-1)")},
        ),
        "interpolate": (
            {"seed_start": ("DT_INT64", "()"), "seed_end": ("DT_INT64", "()"), "steps": ("DT_INT32", "()")},
            {"images": ("DT_UINT8", "(-1, 32, 32, 3)")},
        ),
    }
    for signature, (inputs, outputs) in expected.items():
        assert signature in blocks, fresh.cli[:2000]
        assert tensors(blocks[signature], "inputs") == inputs
        assert tensors(blocks[signature], "outputs") == outputs
    assert fresh.cli.count("Method name is: tensorflow/serving/predict") == 4


# ----- layout and content ----------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_layout_and_only_generator_weights(exports, name):
    case = exports[name]
    assert case.path == os.path.join(case.export_dir, "1")
    assert sorted(os.listdir(case.export_dir)) == ["1"]  # no staging folder left
    for item in ("saved_model.pb", "variables/variables.index", WARMUP_FILE):
        assert os.path.isfile(os.path.join(case.path, item)), item
    assert os.stat(case.path).st_mode & 0o055, "version folder must be readable by other users (the server)"
    stored = [(key, shape) for key, shape in tf.train.list_variables(os.path.join(case.path, "variables", "variables"))
              if key != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    generator = case.model.generator
    # Each generator weight exactly once; nothing of D, the optimisers or the seed generator.
    assert sorted(tuple(s) for _, s in stored) == sorted(tuple(w.shape) for w in generator.weights)
    if name == "gan":
        assert case.model.g_optimizer.variables and case.model.d_optimizer.variables  # they existed


# ----- versions and errors -----------------------------------------------------------


def test_versions_increase_and_are_never_overwritten(tmp_path):
    # (The module fixture showed a new folder starts at version 1.)
    model = build("wgan")
    export_dir = str(tmp_path / "export")
    first = export_lib.export_generator(model, export_dir, version=5, allow_untrained=True, warmup=False)
    second = export_lib.export_generator(model, export_dir, allow_untrained=True, warmup=False)
    assert [first, second] == [os.path.join(export_dir, "5"), os.path.join(export_dir, "6")]
    stamp = os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns
    for taken in (5, 6):
        with pytest.raises(UserError, match="already exists"):
            export_lib.export_generator(model, export_dir, version=taken, allow_untrained=True)
    assert os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns == stamp
    assert next_version(export_dir) == 7
    assert not os.path.exists(os.path.join(second, WARMUP_FILE))  # warmup=False honoured
    assert sorted(os.listdir(export_dir)) == ["5", "6"]


def test_export_refuses_bad_models_and_paths(tmp_path):
    model = build("gan")
    with pytest.raises(UserError, match="never been trained"):
        export_lib.export_generator(model, str(tmp_path / "a"))  # never compiled
    model.compile(jit_compile=False)
    with pytest.raises(UserError, match="never been trained"):
        export_lib.export_generator(model, str(tmp_path / "a"))  # compiled, never fit
    unbuilt = types.SimpleNamespace(generator=keras.Sequential([keras.layers.Dense(4)]), latent_dim=4)
    with pytest.raises(UserError, match="has not been built"):
        export_lib.export_generator(unbuilt, str(tmp_path / "a"), allow_untrained=True)
    with pytest.raises(UserError, match="needs a keras_gans model"):
        export_lib.export_generator(keras.Sequential([keras.layers.Dense(4)]), str(tmp_path / "a"))
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    with pytest.raises(UserError, match="is a file"):
        export_lib.export_generator(model, str(a_file), allow_untrained=True)
    for version in (0, -1, "x", 2.5, True):
        with pytest.raises(UserError, match="positive integer"):
            export_lib.export_generator(model, str(tmp_path / "a"), version=version, allow_untrained=True)
    assert not os.path.exists(tmp_path / "a")  # every refusal came before any write


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    # What a full disk really raises inside ExportArchive.write_out: TensorFlow's error, not an OSError.
    tf.errors.ResourceExhaustedError(None, None, "some/variables.data-00000-of-00001.tempstate; No space left on device"),
], ids=["oserror", "tensorflow"])
def test_full_disk_during_export_is_one_line_and_leaves_no_version(tmp_path, monkeypatch, error):
    model = build("wgan")

    def full_disk(*args, **kwargs):
        raise error

    # The archive's write_out is where TensorFlow writes the SavedModel's files.
    monkeypatch.setattr(export_lib, "_build_archive", lambda *args: types.SimpleNamespace(write_out=full_disk))
    with pytest.raises(UserError) as raised:
        export_lib.export_generator(model, str(tmp_path / "export"), allow_untrained=True)
    message = str(raised.value)
    assert "disk is full" in message and "\n" not in message and "permission" not in message
    assert os.listdir(tmp_path / "export") == []  # neither 1/ nor the hidden staging folder
    assert next_version(str(tmp_path / "export")) == 1


def test_failed_warmup_write_leaves_no_version_behind(tmp_path, monkeypatch):
    model = build("wgan")

    def broken(*args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export_lib, "write_warmup_requests", broken)
    with pytest.raises(UserError, match="permission denied") as raised:
        export_lib.export_generator(model, str(tmp_path / "export"), allow_untrained=True)
    assert "disk" not in str(raised.value)
    assert os.listdir(tmp_path / "export") == []
    assert next_version(str(tmp_path / "export")) == 1


def test_export_under_a_file_says_the_path_is_wrong_not_the_disk(tmp_path):
    # A path below a regular file fails for root too (ENOTDIR), unlike chmod.
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    with pytest.raises(UserError) as raised:
        export_lib.export_generator(build("wgan"), str(a_file / "export"), allow_untrained=True)
    message = str(raised.value)
    assert "is a file, not a folder" in message and "disk" not in message


def test_export_serves_the_generator_average_when_enabled(tmp_path):
    """With ema_decay the export holds the averaged generator, the one model.generate samples from."""
    keras.utils.set_random_seed(0)
    model = MODELS["dcgan"](image_shape=(28, 28, 1), latent_dim=8, width=4, seed=0, ema_decay=0.5)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)), tf.float32)
    for _ in range(3):
        model.train_step(real)
    randomise(model.ema_generator, np.random.default_rng(3))  # far from the raw weights: a clear difference
    path = export_lib.export_generator(model, str(tmp_path / "export"))
    z = np.random.default_rng(2).standard_normal((Z_ROWS, 8)).astype("float32")
    served = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))
    served = next(iter(served.values())).numpy()
    averaged = model.sampling_network()(z, training=False).numpy()  # the average, standing BatchNorm statistics
    raw = model.generator(z, training=False).numpy()
    assert np.abs(served - averaged).max() < MAX_ABS_DIFF
    assert np.abs(served - raw).max() > 1e-2
    # The export holds one generator's variables, not both.
    stored = [shape for key, shape in tf.train.list_variables(os.path.join(path, "variables", "variables"))
              if key != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert sorted(tuple(s) for s in stored) == sorted(tuple(w.shape) for w in model.ema_generator.weights)
