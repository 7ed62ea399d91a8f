"""Pre-emption and crowding (issue 14, training side): SIGTERM checkpoints the step reached and the
resumed run equals one left alone; a second process on the same folder is refused; artefacts are
written atomically; a finished run is not exported twice."""

import errno
import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_gans.errors import UserError
from keras_gans.training.resume import check_resumable
from keras_gans.training.artefacts import save_model_atomic
from keras_gans.training.run import run
from keras_gans.training.run_dir import RunDir
from conftest import REPO_ROOT, checkpoint_differences, subprocess_env, tiny_config

STEPS = 150  # per epoch; two epochs


def _command(output_dir, *extra):
    return [
        sys.executable, os.path.join(REPO_ROOT, "train.py"), "--model=dcgan", "--width=8", "--latent_dim=16",
        "--batch_size=8", "--max_images=128", "--epochs=2", f"--steps_per_epoch={STEPS}", "--checkpoint_every=0",
        "--export=false", "--verbose=0", "--grid_images=4", "--jit_compile=false", "--tensorboard=false",
        f"--output_dir={output_dir}", *extra,
    ]


def _wait_for(pattern, process, seconds=300):
    deadline = time.time() + seconds
    while not glob.glob(pattern):
        assert process.poll() is None, f"the run ended before {pattern} appeared"
        assert time.time() < deadline, f"no {pattern} after {seconds} s"
        time.sleep(0.01)


@pytest.mark.slow
def test_sigterm_checkpoints_the_step_reached_and_resume_is_exact(tmp_path):
    reference_dir, run_dir = str(tmp_path / "reference"), str(tmp_path / "run")
    env = subprocess_env(TF_CPP_MIN_LOG_LEVEL="3")
    reference = subprocess.Popen(_command(reference_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    victim = subprocess.Popen(_command(run_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The first epoch's checkpoint shows training is under way; stop it in the second epoch.
    _wait_for(os.path.join(run_dir, "checkpoints", f"ckpt-{STEPS:08d}.npz"), victim)
    victim.send_signal(signal.SIGTERM)
    out, err = victim.communicate(timeout=120)
    assert victim.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith("stopped by SIGTERM at step ") and line.endswith(
        "checkpoint written; run the same command to resume"), line
    step = int(line.split("at step ")[1].split(" ")[0])
    assert STEPS <= step < 2 * STEPS, f"stopped at {step}: the signal came too late for this test"
    newest = sorted(os.listdir(os.path.join(run_dir, "checkpoints")))[-1]
    assert newest == f"ckpt-{step:08d}.npz"  # the checkpoint is of the step reached, not an older one
    assert not os.path.exists(os.path.join(run_dir, "model.keras"))

    resumed = subprocess.run(_command(run_dir), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert reference.wait(timeout=300) == 0, reference.stdout.read()[-3000:]
    final = f"ckpt-{2 * STEPS:08d}.npz"
    different = checkpoint_differences(os.path.join(reference_dir, "checkpoints", final),
                                       os.path.join(run_dir, "checkpoints", final))
    assert not different, different[:5]
    history = json.load(open(os.path.join(run_dir, "history.json")))
    assert history == json.load(open(os.path.join(reference_dir, "history.json")))


@pytest.mark.slow
def test_second_process_on_the_same_folder_is_refused(tmp_path):
    folder = str(tmp_path / "run")
    env = subprocess_env(TF_CPP_MIN_LOG_LEVEL="3")
    first = subprocess.Popen(_command(folder, "--epochs=50"), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(os.path.join(folder, "config.json"), first)
        second = subprocess.run(_command(folder, "--seed=2"), env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr[-2000:]
        assert "Traceback" not in second.stderr, second.stderr
        # TensorFlow's own start-up chatter aside, one line: ours.
        message, = [line for line in second.stderr.splitlines() if line.startswith("error:")]
        assert f"in use by another run (PID {first.pid} on " in message, message
        # The refused run changed nothing: the folder still holds the first run's settings.
        assert json.load(open(os.path.join(folder, "config.json")))["seed"] == 0
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=120)
    assert first.returncode == 128 + signal.SIGTERM


def test_checkpoints_without_config_json_are_refused(tmp_path):
    run_dir = RunDir(tmp_path)
    os.makedirs(run_dir.checkpoints)
    open(os.path.join(run_dir.checkpoints, "ckpt-00000004.npz"), "wb").close()
    with pytest.raises(UserError, match="holds checkpoints but no config.json"):
        check_resumable(tiny_config(tmp_path))
    check_resumable(tiny_config(tmp_path, restart=True))  # --restart is the way out


def test_config_of_a_run_that_never_checkpointed_may_be_replaced(tmp_path):
    run_dir = RunDir(tmp_path)
    run_dir.write_json_atomic(run_dir.config, {"seed": 5, "dataset": "idx:/typo"})
    check_resumable(tiny_config(tmp_path))  # no checkpoints: nothing to protect
    os.makedirs(run_dir.checkpoints)
    open(os.path.join(run_dir.checkpoints, "ckpt-00000004.npz"), "wb").close()
    with pytest.raises(UserError, match="different settings"):
        check_resumable(tiny_config(tmp_path))


def test_model_save_is_atomic(tmp_path):
    path = str(tmp_path / "model.keras")
    with open(path, "wb") as f:
        f.write(b"previous model")

    class FullDisk:
        def save(self, filepath):
            with open(filepath, "wb") as f:
                f.write(b"half a mod")
            raise OSError(errno.ENOSPC, "No space left on device", filepath)

    with pytest.raises(OSError):
        save_model_atomic(FullDisk(), path)
    assert open(path, "rb").read() == b"previous model"
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary file left behind


@pytest.mark.slow
def test_rerun_of_a_finished_run_exports_no_duplicate(tmp_path, capsys):
    config = tiny_config(tmp_path, export=True, steps_per_epoch=2, tensorboard=False)
    first = run(config)
    assert first.export_path and os.path.isdir(first.export_path)
    mtime = os.path.getmtime(os.path.join(tmp_path, "model.keras"))
    capsys.readouterr()
    second = run(config)
    assert "nothing to do" in capsys.readouterr().out
    assert os.listdir(os.path.join(tmp_path, "export")) == [os.path.basename(first.export_path)]
    assert second.export_path == first.export_path
    assert os.path.getmtime(os.path.join(tmp_path, "model.keras")) == mtime
