"""keras_gans.serving.sample (`python -m keras_gans.sample`): images from an export, bad input in one line."""

import ast
import errno
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from _serving_cases import assert_uint8_matches, export_cases

from keras_gans.models import latent_vectors
from keras_gans.serving import export as export_lib
from keras_gans.serving import sample as sample_lib

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return export_cases(tmp_path_factory.mktemp("exports"), ["dcgan", "wgan_gp"])


def _run_sample(args, cwd):
    """`python -m keras_gans.sample ARGS` as a user runs it (the old module path: the shim must keep working)."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "keras_gans.sample", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_sample_cli_in_a_subprocess(exports, tmp_path):
    """End to end on WGAN-GP's export folder: PNG grid and .npy of `generate`."""
    case = exports["wgan_gp"]
    png, npy = tmp_path / "grid.png", tmp_path / "images.npy"
    run = _run_sample(["--export_dir", case.export_dir, "--num", "5", "--seed", "3", "--png", str(png),
                       "--npy", str(npy), "--scale", "2"], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"wrote {npy}" in run.stdout
    images = np.load(npy)
    assert images.dtype == np.uint8 and images.shape == (5, 32, 32, 3)
    assert_uint8_matches(images, case.model.generate(5, seed=3))
    from PIL import Image

    grid = np.asarray(Image.open(png))
    # 5 images -> 3 rows x 2 columns of 32 px with 2 px gaps, enlarged twice.
    assert grid.shape == (2 * (3 * 34 + 2), 2 * (2 * 34 + 2), 3)
    np.testing.assert_array_equal(grid[4:68:2, 4:68:2], images[0])


def test_sample_signatures_agree(exports, tmp_path):
    """In process: serving_default with the CLI's own latents gives generate's images; interpolate's ends."""
    case = exports["dcgan"]
    out = tmp_path / "x.npy"
    assert sample_lib.main(["--export_dir", case.path, "--num", "4", "--seed", "3", "--npy", str(out)]) == 0
    generated = np.load(out)
    assert sample_lib.main(["--export_dir", case.export_dir, "--signature", "serving_default", "--num", "4",
                            "--seed", "3", "--npy", str(out)]) == 0
    floats = np.load(out)
    assert floats.dtype == np.float32
    assert_uint8_matches(generated, floats)
    assert sample_lib.latent_vectors is latent_vectors  # one latent contract (keras_gans.latents)
    assert sample_lib.main(["--export_dir", case.export_dir, "--signature", "interpolate", "--seed", "0",
                            "--seed_end", "1", "--num", "3", "--npy", str(out)]) == 0
    steps = np.load(out)
    assert_uint8_matches(steps[0], case.ends[0])
    assert_uint8_matches(steps[-1], case.ends[1])


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_sample_cli_bad_input(exports, tmp_path, capsys):
    png = str(tmp_path / "g.png")
    case = exports["dcgan"]
    assert sample_lib.main(["--export_dir", case.export_dir, "--num", "0", "--png", png]) == 2
    assert "--num must be between 1 and 1024" in _one_error_line(capsys)
    assert sample_lib.main(["--export_dir", case.export_dir, "--num", "2000", "--png", png]) == 2
    _one_error_line(capsys)
    assert sample_lib.main(["--export_dir", str(tmp_path / "missing"), "--png", png]) == 2
    assert "is not a folder" in _one_error_line(capsys)
    assert sample_lib.main(["--export_dir", str(tmp_path), "--png", png]) == 2
    assert "holds no SavedModel" in _one_error_line(capsys)
    assert sample_lib.main(["--export_dir", case.export_dir, "--signature", "interpolate", "--png", png]) == 2
    assert "needs --seed_end" in _one_error_line(capsys)
    with pytest.raises(SystemExit) as exit_info:
        sample_lib.main(["--export_dir", case.export_dir])  # nothing to write
    assert exit_info.value.code == 2
    assert not os.path.exists(png)


def test_unwritable_outputs_are_refused_before_any_work(exports, tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    # Loading the export is the work; it must not start. (Paths below a regular file fail for root too.)
    monkeypatch.setattr(sample_lib, "sample", lambda *a, **k: pytest.fail("sampled before checking the outputs"))
    for flag, path in (("--png", a_file / "g.png"), ("--npy", tmp_path / "missing" / "x.npy"), ("--npy", tmp_path)):
        assert sample_lib.main(["--export_dir", exports["dcgan"].export_dir, flag, str(path)]) == 2
        err = _one_error_line(capsys)
        assert flag in err


def test_full_disk_while_writing_is_one_line(exports, tmp_path, capsys, monkeypatch):
    out = tmp_path / "x.npy"

    def full_disk(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(np, "save", full_disk)
    assert sample_lib.main(["--export_dir", exports["dcgan"].export_dir, "--num", "2", "--npy", str(out)]) == 2
    err = _one_error_line(capsys)
    assert "disk is full" in err and str(out) in err


def test_broken_versions_one_line_and_newest_valid_chosen(exports, tmp_path, capsys):
    """A version folder without variables/ (a half copy): one line; given the base, the valid older one is used."""
    base = tmp_path / "export"
    shutil.copytree(exports["dcgan"].path, base / "1")
    shutil.copytree(exports["dcgan"].path, base / "2")
    shutil.rmtree(base / "2" / "variables")
    out = tmp_path / "x.npy"
    assert sample_lib.main(["--export_dir", str(base / "2"), "--num", "2", "--npy", str(out)]) == 2
    assert "no variables/" in _one_error_line(capsys)
    assert sample_lib.main(["--export_dir", str(base), "--num", "2", "--npy", str(out)]) == 0
    captured = capsys.readouterr()
    warning = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and str(base / "2") in warning[0], captured.err
    assert f"from {base / '1'}" in captured.out
    # A corrupt saved_model.pb: one line, not a protobuf traceback.
    (base / "1" / "saved_model.pb").write_bytes(b"\x00garbage")
    assert sample_lib.main(["--export_dir", str(base / "1"), "--num", "2", "--npy", str(out)]) == 2
    assert "corrupt or truncated" in _one_error_line(capsys)


def test_sample_module_needs_no_training_code():
    with open(sample_lib.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    # The package's small helpers only (errors, files, pictures, version lookup, the latent contract):
    # no models, no training.
    allowed = {"argparse", "sys", "numpy", "tensorflow", "PIL", "keras_gans.errors", "keras_gans.fileio",
               "keras_gans.images", "keras_gans.serving.versions", "keras_gans.latents"}
    assert imported <= allowed, imported - allowed
    assert sample_lib.MAX_IMAGES == export_lib.MAX_IMAGES  # the CLI checks the bound the signatures enforce


def test_old_module_path_is_the_new_module():
    import keras_gans.sample

    assert keras_gans.sample is sample_lib
