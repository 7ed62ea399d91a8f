"""tf.distribute: strategy flags, replica-independent numerics, multi-worker training.

The heavy checks run in subprocesses (tests/_distribute_worker.py): logical
CPU devices must be configured before TensorFlow initialises its devices, and
each multi-worker task is a process of its own.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO_ROOT
from keras_gans import distribute
from keras_gans.errors import UserError

WORKER = os.path.join(REPO_ROOT, "tests", "_distribute_worker.py")
MODELS = ("gan", "dcgan", "wgan", "wgan_gp")

# Mirrored vs single-device weights after 2 steps (SGD lr 0.05, n_critic 2):
# float32 rounding only (the replicas' gradient sums are added in another
# order; synchronised BatchNorm computes the variance as E[x^2] - E[x]^2):
# measured <= 6e-8. Averaging the losses per replica instead of over the global
# batch doubles every gradient and moves weights by >= 2.5e-3 (measured with
# `_average` broken on purpose), 250x above this tolerance.
TOLERANCE = 1e-5


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow", PYTHONPATH=REPO_ROOT)
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _tail(text, lines=25):
    return "\n".join(text.strip().splitlines()[-lines:])


@pytest.fixture(scope="module")
def mirrored_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "results.json"
    proc = subprocess.run(
        [sys.executable, WORKER, "mirrored", str(out)], env=_env(), capture_output=True, text=True, timeout=400
    )
    assert proc.returncode == 0, _tail(proc.stderr)
    return json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS + ("dcgan_ema", "wgan_gp_cond", "dcgan_lazyr1"))
def test_mirrored_training_matches_one_device(mirrored_results, name):
    """Two replicas, same global batches and noise: the same weights as one device (WGAN-GP's penalty included)."""
    result = mirrored_results[name]
    assert result["replicas"] == 2
    assert result["max_diff"] < TOLERANCE, result
    # Training really moved the weights, far beyond the tolerance, so equality means something.
    assert result["moved"] > 100 * TOLERANCE, result


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_workers(tmp_path, mode="worker"):
    """Two MultiWorkerMirroredStrategy workers on localhost, each a process of tests/_distribute_worker.py."""
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    procs = []
    for index in range(2):
        scratch = tmp_path / f"tmp{index}"
        scratch.mkdir()
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [sys.executable, WORKER, mode, str(tmp_path / f"out{index}"), str(tmp_path / f"weights{index}.npz")],
            env=_env(TF_CONFIG=tf_config, TMPDIR=str(scratch)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ))
    return procs


def _wait_for_workers(procs, timeout=300):
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=timeout)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return outputs


@pytest.mark.slow
def test_multi_worker_two_processes_on_localhost(tmp_path):
    """Two MultiWorkerMirroredStrategy workers through training.run.run: both finish with the same
    weights, and only the chief (worker 0) wrote artefacts."""
    procs = _start_workers(tmp_path)
    outputs = _wait_for_workers(procs)
    for index, (proc, output) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f"worker {index} failed:\n{_tail(output)}"

    # Each worker reads only its own half of every global batch, the rows fit would have given it.
    from keras_gans import data
    from keras_gans.config import TrainConfig
    from keras_gans.training.run import load_data

    config = TrainConfig(model="dcgan", max_images=64, seed=TrainConfig().seed)
    expected = next(iter(data.make_dataset(load_data(config), 8, shuffle=True, seed=config.seed, repeat=True))).numpy()
    for index in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"weights{index}_batch.npy"), expected[index * 4:(index + 1) * 4])

    chief, worker = np.load(tmp_path / "weights0.npz"), np.load(tmp_path / "weights1.npz")
    assert len(chief.files) == len(worker.files) > 10
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], worker[key])

    chief_dir = tmp_path / "out0"
    for name in ("config.json", "history.json", "loss.png", "model.keras", "samples/training.gif", "export"):
        assert (chief_dir / name).exists(), name
    assert not (tmp_path / "out1").exists()  # the worker never touched its --output_dir...
    assert not list((tmp_path / "tmp1").iterdir())  # ...and removed its scratch folder


@pytest.mark.slow
def test_a_signal_to_one_worker_stops_every_worker_at_the_same_checkpointed_step(tmp_path):
    """Pre-emption reaches one machine: SIGTERM to the non-chief worker alone. Both workers stop after
    the same step and exit 143; the chief's newest checkpoint is exactly that step."""
    import glob
    import signal
    import time

    from keras_gans.training.checkpoint import read_checkpoint

    procs = _start_workers(tmp_path, "long_worker")
    checkpoints = str(tmp_path / "out0" / "checkpoints" / "ckpt-*.npz")
    deadline = time.time() + 240
    while not glob.glob(checkpoints) and time.time() < deadline and procs[0].poll() is None:
        time.sleep(0.2)  # training has started once the chief has checkpointed
    assert glob.glob(checkpoints), "the chief never checkpointed"
    procs[1].send_signal(signal.SIGTERM)
    outputs = _wait_for_workers(procs)

    stopped = []
    for index, (proc, output) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 128 + signal.SIGTERM, f"worker {index}:\n{_tail(output)}"
        lines = [line for line in output.splitlines() if line.startswith("STOPPED ")]
        assert lines, f"worker {index}:\n{_tail(output)}"
        stopped.append(json.loads(lines[-1][len("STOPPED "):]))
    step = stopped[0]["global_step"]
    assert 5 <= step < 5000 and stopped[1]["global_step"] == step, stopped
    assert stopped[1]["checkpoint"] is None  # only the chief writes
    newest = max(glob.glob(checkpoints), key=lambda path: int(path.rsplit("-", 1)[1].split(".")[0]))
    assert read_checkpoint(newest)[0]["global_step"] == step == int(stopped[0]["checkpoint"].rsplit("-", 1)[1].split(".")[0])


@pytest.mark.slow
def test_time_budget_stops_every_worker_at_the_same_epoch_end(tmp_path):
    """--max_minutes under MultiWorkerMirroredStrategy: the workers' clocks differ, so the budget is
    agreed at epoch ends; both stop after the same epoch, well before --epochs, with the same weights,
    and the chief says so and still saves and exports."""
    procs = _start_workers(tmp_path, "budget_worker")
    outputs = _wait_for_workers(procs)
    for index, (proc, output) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f"worker {index} failed:\n{_tail(output)}"
    done = [json.loads((tmp_path / f"weights{index}_history.json").read_text()) for index in range(2)]
    assert done[0] == done[1], done
    assert 1 <= done[0]["epochs"] < 40 and done[0]["d_updates"] == 10 * done[0]["epochs"], done
    chief, worker = np.load(tmp_path / "weights0.npz"), np.load(tmp_path / "weights1.npz")
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], worker[key])
    assert "time budget reached" in outputs[0] and "time budget reached" not in outputs[1]
    assert (tmp_path / "out0" / "model.keras").exists() and (tmp_path / "out0" / "export").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--strategy=bogus"], "error: unknown --strategy='bogus': use one of auto, default, mirrored, multi_worker, tpu"),
        (["--strategy=multi_worker"], "error: --strategy=multi_worker needs the TF_CONFIG environment variable"),
    ],
    ids=["invalid_strategy", "multi_worker_without_tf_config"],
)
def test_train_py_strategy_errors_are_one_line(tmp_path, flags, expected):
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "train.py"), *flags, f"--output_dir={tmp_path / 'run'}"],
        env=_env(), capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:") or "Traceback" in line]
    assert len(errors) == 1 and errors[0].startswith(expected), proc.stderr[-2000:]
    assert not (tmp_path / "run").exists()  # failed before any work


def test_strategy_flag_checks(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match=r"--tpu='node-1' needs --strategy=tpu"):
        distribute.create_strategy("mirrored", tpu="node-1")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(UserError, match="TF_CONFIG is not valid JSON"):
        distribute.create_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"task": {"type": "worker", "index": 0}}))
    with pytest.raises(UserError, match="needs the TF_CONFIG"):
        distribute.create_strategy("multi_worker")
    # No GPU, no TPU, no cluster: auto is the default (one-device) strategy.
    monkeypatch.delenv("TF_CONFIG")
    assert not distribute.is_distributed(distribute.create_strategy("auto"))
    assert distribute.create_strategy("default") is tf.distribute.get_strategy()


@pytest.mark.parametrize(
    "tf_config, chief",
    [
        (None, True),
        ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}, True),
        ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}, False),
        ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}, False),
        ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}, True),
    ],
)
def test_is_chief(monkeypatch, tf_config, chief):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    assert distribute.is_chief() is chief


def test_replica_noise_is_a_pure_function_of_key_draw_and_step():
    key = tf.constant([7, 0], tf.int64)
    a = distribute.replica_noise("normal", 6, (3,), key, draw=0, counter=tf.constant(5, tf.int64))
    assert a.shape == (6, 3)
    np.testing.assert_array_equal(a, distribute.replica_noise("normal", 6, (3,), key, 0, tf.constant(5, tf.int64)))
    for other in (
        distribute.replica_noise("normal", 6, (3,), key, 1, tf.constant(5, tf.int64)),  # another draw
        distribute.replica_noise("normal", 6, (3,), key, 0, tf.constant(6, tf.int64)),  # the next step
    ):
        assert np.max(np.abs(np.asarray(a) - np.asarray(other))) > 0.1
    alpha = distribute.replica_noise("uniform", 1000, (), key, 5, tf.constant(0, tf.int64))
    assert alpha.shape == (1000,) and 0.0 <= float(tf.reduce_min(alpha)) and float(tf.reduce_max(alpha)) < 1.0


def test_a_lost_worker_is_reported_in_one_line(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}
    ))
    # The error the chief got when worker 1 was gone (TF 2.21, seen in this test's multi-worker run).
    error = tf.errors.UnavailableError(None, None, (
        "{{function_node __wrapped__CollectiveReduceV2}} Collective ops is aborted by: Error reported from "
        "/job:worker/task:1: The following tasks are unhealthy (stopped sending heartbeats):\n"
        "/job:worker/replica:0/task:1\nThe tasks have crashed."
    ))
    message = distribute.describe_worker_failure(error)
    assert message.startswith("multi-worker training stopped: worker:1 stopped responding")
    assert "\n" not in message
    assert distribute.describe_worker_failure(ValueError("unrelated")) is None
    monkeypatch.delenv("TF_CONFIG")
    assert distribute.describe_worker_failure(error) is None  # not a cluster: keep the real traceback


DEFAULT_OPTIMIZERS_UNDER_MIRRORED = """
import sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_gans.models import MODELS
from keras_gans.serving.export import export_generator
from keras_gans.latents import latent_vectors
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
images = np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 1)).astype("float32")
for name in ("dcgan", "wgan"):  # Adam and RMSprop: optimisers with slots
    with strategy.scope():
        model = MODELS[name](image_shape=(16, 16, 1), latent_dim=4, width=4, seed=0, n_critic=1, ema_decay=0.5,
                             precision="float32")
        model.compile(jit_compile=False)  # the model's own optimisers, built lazily by Keras
    before = [w.copy() for w in model.discriminator.get_weights()]
    model.fit(tf.data.Dataset.from_tensor_slices(images).batch(16, drop_remainder=True), epochs=1, verbose=0)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.discriminator.get_weights())), name
    path = export_generator(model, sys.argv[1] + "/" + name)
    served = tf.saved_model.load(path).signatures["serving_default"](z=latent_vectors(3, 4, 1))
    assert np.abs(next(iter(served.values())).numpy() - model.generate(3, seed=1)).max() < 1e-5, name
print("ok")
"""


def test_fit_with_the_models_own_optimisers_under_mirrored_strategy(tmp_path):
    """Adam and RMSprop create slot variables at their first step; inside a replicated step that failed with a
    raw "You must feed a value for placeholder tensor" error. fit builds them first, in the strategy's scope."""
    proc = subprocess.run([sys.executable, "-c", DEFAULT_OPTIMIZERS_UNDER_MIRRORED, str(tmp_path)], env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), _tail(proc.stderr)
