"""Checkpoints and exact resume: kill -9 mid-epoch, restart, same weights; the guard rails."""

import glob
import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_gans import checkpoints, data, train_lib
from keras_gans.errors import UserError
from keras_gans.models import MODELS

from conftest import REPO_ROOT

STEPS_PER_EPOCH = 25


def train_command(output_dir, model, jit_compile, extra=()):
    return [
        sys.executable, os.path.join(REPO_ROOT, "train.py"), f"--model={model}", "--width=8", "--latent_dim=16",
        "--batch_size=8", "--max_images=128", "--epochs=2", f"--steps_per_epoch={STEPS_PER_EPOCH}",
        "--checkpoint_every=4", "--keep_checkpoints=2", "--export=false", "--verbose=0", "--grid_images=4",
        f"--jit_compile={str(jit_compile).lower()}", "--log_every=10", f"--output_dir={output_dir}", *extra,
    ]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO_ROOT)


# Without XLA to keep the test cheap (an XLA compile costs ~6 s per process);
# with --jit_compile=true both models were checked bit-for-bit the same way.
# DCGAN with generator averaging: the average is training state too, and must resume exactly.
@pytest.mark.parametrize("model,jit_compile,extra", [("dcgan", False, ["--ema_decay=0.9"]), ("wgan_gp", False, [])])
def test_killed_run_resumes_bit_for_bit(tmp_path, model, jit_compile, extra):
    reference_dir, run_dir = str(tmp_path / "reference"), str(tmp_path / "run")
    # The uninterrupted run and the victim run side by side (2 cores).
    reference = subprocess.Popen(
        train_command(reference_dir, model, jit_compile, extra), env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    victim = subprocess.Popen(
        train_command(run_dir, model, jit_compile, extra), env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.npz")):
        assert victim.poll() is None, "the run ended before its first checkpoint"
        assert time.time() < deadline, "no checkpoint after 300 s"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = checkpoints.CheckpointManager(os.path.join(run_dir, "checkpoints")).checkpoints()
    assert killed_at and not os.path.exists(os.path.join(run_dir, "model.keras")), "the kill came too late"

    resumed = subprocess.run(
        train_command(run_dir, model, jit_compile, extra), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert reference.wait(timeout=300) == 0, reference.stdout.read()[-3000:]
    lines = [line for line in resumed.stdout.splitlines() if line.startswith("resuming from")]
    assert len(lines) == 1, resumed.stdout
    assert "ckpt-" in lines[0] and "epoch 1/2" in lines[0], lines[0]  # resumed in the middle of epoch 1

    final = f"ckpt-{2 * STEPS_PER_EPOCH:08d}.npz"
    expected = np.load(os.path.join(reference_dir, "checkpoints", final))
    actual = np.load(os.path.join(run_dir, "checkpoints", final))
    assert sorted(expected.files) == sorted(actual.files)
    # Tolerance: none. Networks, BatchNorm statistics, both optimisers and the
    # loss trackers are bit-for-bit those of the run left alone.
    different = [name for name in expected.files if not np.array_equal(expected[name], actual[name])]
    assert different == []
    with open(os.path.join(reference_dir, "history.json")) as f, open(os.path.join(run_dir, "history.json")) as g:
        assert json.load(f) == json.load(g)  # no epoch lost or repeated, same epoch means
    samples = sorted(os.listdir(os.path.join(run_dir, "samples")))
    assert samples == sorted(os.listdir(os.path.join(reference_dir, "samples")))  # numbering carried on
    assert "fixed_epoch_002.png" in samples and "training.gif" in samples


def test_stream_starts_at_any_batch():
    source = data.ImageSource("t", np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1))

    def batches(start, count):
        dataset = data.make_dataset(source, 4, seed=3, repeat=True, start_batch=start)
        return [data.to_uint8(b.numpy()).ravel().tolist() for b in dataset.take(count)]

    stream = batches(0, 8)
    # Each pass is a permutation of the 10 images; batches run across passes.
    flat = sum(stream, [])
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))
    assert flat[:10] != flat[10:20]  # a new order every pass
    for start in (1, 2, 3, 5, 7):
        assert batches(start, 8 - start) == stream[start:]


def tiny_model():
    model = MODELS["dcgan"](image_shape=(28, 28, 1), width=8, latent_dim=16, seed=0)
    model.compile(jit_compile=False)
    return model


def test_truncated_latest_checkpoint_falls_back_to_previous(tmp_path, caplog):
    model = tiny_model()
    manager = checkpoints.CheckpointManager(str(tmp_path / "checkpoints"), keep=3)
    kernel = model.generator.trainable_variables[0]
    first = np.full(kernel.shape, 0.5, np.float32)
    kernel.assign(first)
    manager.save(model, {"global_step": 10, "epoch": 0, "step_in_epoch": 10, "history": {}})
    kernel.assign(np.full(kernel.shape, 2.0, np.float32))
    latest = manager.save(model, {"global_step": 20, "epoch": 1, "step_in_epoch": 0, "history": {"d_loss": [1.5]}})
    with open(latest, "r+b") as f:
        f.truncate(os.path.getsize(latest) // 2)
    kernel.assign(np.zeros(kernel.shape, np.float32))

    with caplog.at_level(logging.WARNING, logger="keras_gans"):
        meta, path = checkpoints.CheckpointManager(str(tmp_path / "checkpoints")).restore_latest(model)
    assert meta["global_step"] == 10 and path.endswith("ckpt-00000010.npz")
    np.testing.assert_array_equal(kernel.numpy(), first)
    assert any(latest in record.getMessage() and "falling back" in record.getMessage() for record in caplog.records)


def test_no_readable_checkpoint_is_a_clear_error(tmp_path):
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    (directory / "ckpt-00000005.npz").write_bytes(b"not a zip file")
    (directory / "ckpt-00000006.npz.tmp").write_bytes(b"half written")  # a kill during a save
    manager = checkpoints.CheckpointManager(str(directory))
    assert [os.path.basename(p) for p in manager.checkpoints()] == ["ckpt-00000005.npz"]
    with pytest.raises(UserError, match="--restart"):
        manager.restore_latest(tiny_model())


def test_keeps_only_the_last_k(tmp_path):
    model = tiny_model()
    manager = checkpoints.CheckpointManager(str(tmp_path), keep=2)
    for step in (3, 6, 9, 12):
        manager.save(model, {"global_step": step, "epoch": 0, "step_in_epoch": step, "history": {}})
    assert sorted(os.listdir(tmp_path)) == ["ckpt-00000009.npz", "ckpt-00000012.npz"]


def test_checkpoint_of_another_model_is_refused(tmp_path):
    manager = checkpoints.CheckpointManager(str(tmp_path))
    manager.save(tiny_model(), {"global_step": 1, "epoch": 0, "step_in_epoch": 1, "history": {}})
    other = MODELS["dcgan"](image_shape=(28, 28, 1), width=16, latent_dim=16, seed=0)
    other.compile(jit_compile=False)
    with pytest.raises(UserError, match="shape"):
        manager.restore_latest(other)


def test_changed_hyperparameter_is_refused(tmp_path):
    config = train_lib.TrainConfig(width=8, output_dir=str(tmp_path))
    train_lib.write_run_info(config, str(tmp_path))
    train_lib.validate(train_lib.TrainConfig(width=8, epochs=9, verbose=0, output_dir=str(tmp_path)))  # fine
    with pytest.raises(UserError) as error:
        train_lib.validate(train_lib.TrainConfig(width=16, d_lr=1e-3, output_dir=str(tmp_path)))
    message = str(error.value)
    assert "--width=8 there, 16 now" in message and "--d_lr=None there, 0.001 now" in message
    assert "--restart" in message and "\n" not in message
    train_lib.validate(train_lib.TrainConfig(width=16, restart=True, output_dir=str(tmp_path)))


def test_restart_removes_the_previous_runs_outputs(tmp_path, capsys):
    for name in ("checkpoints", "tensorboard", "samples"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_text("x")
    (tmp_path / "history.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    checkpoints.prepare_output_dir(train_lib.TrainConfig(restart=True, output_dir=str(tmp_path)))
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
    assert "restart: removed" in capsys.readouterr().out


def test_unwritable_output_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write to --output_dir"):
        checkpoints.prepare_output_dir(train_lib.TrainConfig(output_dir=str(blocker / "run")))
    with pytest.raises(UserError, match="cannot write checkpoint"):
        checkpoints.write_checkpoint(str(blocker / "ckpt-00000001.npz"), tiny_model(), {"global_step": 1})


def test_resume_with_another_epoch_length_is_refused(tmp_path):
    manager = checkpoints.CheckpointManager(str(tmp_path))
    resume = {"global_step": 12, "epoch": 1, "step_in_epoch": 2, "steps_per_epoch": 10, "history": {}}
    checkpoints.Checkpointer(manager, steps_per_epoch=10, resume=resume)  # the same length: fine
    with pytest.raises(UserError, match="10 steps per epoch, this run has 9 .*--restart"):
        checkpoints.Checkpointer(manager, steps_per_epoch=9, resume=resume)
