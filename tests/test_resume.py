"""training.resume: kill -9 mid-epoch, resume, same weights; which runs may be resumed; the resume line."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_gans import data
from keras_gans.callbacks.time_budget import TimeBudget
from keras_gans.config import TrainConfig
from keras_gans.errors import UserError
from keras_gans.training import resume as resume_lib
from keras_gans.training.checkpoint import CheckpointManager
from keras_gans.training.run import write_run_info
from keras_gans.training.validate import validate
from conftest import REPO_ROOT, checkpoint_differences, shared_data_dir, subprocess_env

STEPS_PER_EPOCH = 25


def train_command(output_dir, model, jit_compile, extra=()):
    extra = [flag.format(output_dir=output_dir) for flag in extra]
    return [
        sys.executable, os.path.join(REPO_ROOT, "train.py"), f"--model={model}", "--width=8", "--latent_dim=16",
        "--batch_size=8", "--max_images=128", "--epochs=2", f"--steps_per_epoch={STEPS_PER_EPOCH}",
        "--checkpoint_every=4", "--keep_checkpoints=2", "--export=false", "--verbose=0", "--grid_images=4",
        f"--jit_compile={str(jit_compile).lower()}", "--log_every=10", f"--output_dir={output_dir}", *extra,
    ]


def _env():
    return subprocess_env(TF_CPP_MIN_LOG_LEVEL="3")


STREAMED_FOLDER = [f"--dataset=folder:{shared_data_dir()}/emoji-twitter", "--image_size=16", "--channels=3",
                   "--max_memory_gb=0.00001", "--cache_dir={output_dir}_cache"]  # 128 images of 768 bytes: streamed


# Without XLA to keep the test cheap (an XLA compile costs ~6 s per process);
# with --jit_compile=true both models were checked bit-for-bit the same way.
# DCGAN with generator averaging: the average is training state too, and must resume exactly.
# A folder over the memory budget is streamed from its on-disk cache: the same stream, resumed exactly.
@pytest.mark.parametrize("model,jit_compile,extra", [
    ("dcgan", False, ["--ema_decay=0.9"]), ("wgan_gp", False, []), ("dcgan", False, STREAMED_FOLDER),
], ids=["dcgan_ema", "wgan_gp", "dcgan_streamed_folder"])
@pytest.mark.slow
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
    killed_at = CheckpointManager(os.path.join(run_dir, "checkpoints")).checkpoints()
    assert killed_at and not os.path.exists(os.path.join(run_dir, "model.keras")), "the kill came too late"

    resumed = subprocess.run(
        train_command(run_dir, model, jit_compile, extra), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert reference.wait(timeout=300) == 0, reference.stdout.read()[-3000:]
    if extra is STREAMED_FOLDER:
        assert "streaming them from the on-disk cache" in resumed.stdout, resumed.stdout
    lines = [line for line in resumed.stdout.splitlines() if line.startswith("resuming from")]
    assert len(lines) == 1, resumed.stdout
    assert "ckpt-" in lines[0] and "epoch 1/2" in lines[0], lines[0]  # resumed in the middle of epoch 1

    final = f"ckpt-{2 * STEPS_PER_EPOCH:08d}.npz"
    # Tolerance: none. Networks, BatchNorm statistics, both optimisers, the
    # loss trackers and the record are bit-for-bit those of the run left alone.
    different = checkpoint_differences(os.path.join(reference_dir, "checkpoints", final),
                                       os.path.join(run_dir, "checkpoints", final))
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


def test_changed_hyperparameter_is_refused(tmp_path):
    config = TrainConfig(width=8, output_dir=str(tmp_path))
    write_run_info(config, str(tmp_path))
    os.makedirs(tmp_path / "checkpoints")  # a run with something trained, whose settings must match
    open(tmp_path / "checkpoints" / "ckpt-00000010.npz", "wb").close()
    # Every resumable setting may change.
    resumable = dict(epochs=9, verbose=0, quality_metric="kid", tensorboard=False, checkpoint_every=7)
    assert set(resumable) <= resume_lib.RUN_CONTROL_FIELDS
    validate(TrainConfig(width=8, output_dir=str(tmp_path), **resumable))
    with pytest.raises(UserError) as error:
        validate(TrainConfig(width=16, d_lr=1e-3, output_dir=str(tmp_path)))
    message = str(error.value)
    assert "--width=8 there, 16 now" in message and "--d_lr=None there, 0.001 now" in message
    assert "--restart" in message and "\n" not in message
    validate(TrainConfig(width=16, restart=True, output_dir=str(tmp_path)))


@pytest.mark.parametrize(
    "global_step, expected",
    [(12, "epoch 2/3, step 2/10 (12 steps done)"), (30, "all 3 epochs already trained (30 steps)")],
)
def test_describe_resume(global_step, expected):
    line = resume_lib.describe_resume({"global_step": global_step}, "x/ckpt.npz", epochs=3, steps_per_epoch=10)
    assert line.startswith("resuming from x/ckpt.npz: ") and line.endswith(expected)


@pytest.mark.parametrize(
    "spent_seconds, expected",
    [(150.0, "(12 steps done); 7.5 of its 10 training minutes left"),
     (600.0, "(12 steps done); its 10-minute training budget is already spent"),
     (0.0, "(12 steps done); 10.0 of its 10 training minutes left")],  # e.g. a checkpoint from before budgets
)
def test_describe_resume_says_what_is_left_of_the_training_budget(spent_seconds, expected):
    meta = {"global_step": 12}
    budget = TimeBudget(minutes=10, spent_seconds=spent_seconds)
    line = resume_lib.describe_resume(meta, "x/ckpt.npz", epochs=3, steps_per_epoch=10, budget=budget)
    assert line.endswith(expected)
    # Without a budget, or with one that only keeps the clock, the line is as it was.
    assert resume_lib.describe_resume(meta, "x/ckpt.npz", 3, 10).endswith("(12 steps done)")
    assert resume_lib.describe_resume(meta, "x/ckpt.npz", 3, 10, TimeBudget()).endswith("(12 steps done)")


class FakeModel:
    """Records the fit calls resumable_fit makes."""

    stop_training = False

    def __init__(self):
        self.calls = []

    def fit(self, dataset, initial_epoch, epochs, steps_per_epoch, **kwargs):
        self.calls.append((dataset, initial_epoch, epochs, steps_per_epoch))


@pytest.mark.parametrize(
    "start_step, expected",
    [
        (0, [(0, 0, 3, 10)]),
        (12, [(12, 1, 2, 8), (20, 2, 3, 10)]),  # the rest of epoch 2, then epoch 3
        (20, [(20, 2, 3, 10)]),
        (30, []),
    ],
)
def test_resumable_fit_finishes_the_interrupted_epoch_first(start_step, expected):
    model = FakeModel()
    calls = resume_lib.resumable_fit(model, lambda start_batch: start_batch, epochs=3, steps_per_epoch=10,
                                     start_step=start_step)
    assert model.calls == expected and calls == len(expected)
