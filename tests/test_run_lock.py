"""One run per folder: the lock refuses a second live process and never outlives a killed one."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from keras_gans.training.run_lock import RunInProgressError, RunLock

HOLD = textwrap.dedent("""
    import sys, time
    from keras_gans.training.run_lock import RunLock
    lock = RunLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    time.sleep(60)
""")


def _holder(folder):
    """A separate process that takes the lock and keeps it until killed."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_second_process_is_refused_with_the_holder_named(tmp_path):
    holder = _holder(tmp_path)
    try:
        with pytest.raises(RunInProgressError) as error:
            RunLock(str(tmp_path)).acquire()
        message = str(error.value)
        assert "\n" not in message
        assert f"PID {holder.pid}" in message and "in use by another run" in message
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_process_does_not_block(tmp_path):
    holder = _holder(tmp_path)
    holder.kill()  # SIGKILL: no clean-up code runs
    holder.wait()
    with RunLock(str(tmp_path)) as lock:
        assert lock.held
        info = json.loads(open(os.path.join(tmp_path, ".lock")).read())
        assert info["pid"] == os.getpid()


def test_release_lets_the_next_run_in_and_creates_the_folder(tmp_path):
    folder = tmp_path / "new" / "run"
    first = RunLock(str(folder)).acquire()
    assert folder.is_dir()
    with pytest.raises(RunInProgressError):
        RunLock(str(folder)).acquire()  # same process, another open file: flock still refuses
    first.release()
    assert not first.held
    RunLock(str(folder)).acquire().release()


def test_a_live_run_is_named_before_any_settings_check(tmp_path):
    # The race the two-process test can hit under load: the first run has already checkpointed,
    # so the second's early settings check would say "different settings ... pass --restart".
    # A live holder must be reported instead, before any work, and nothing in the folder changes.
    from conftest import tiny_config
    from keras_gans.errors import UserError
    from keras_gans.training.run_dir import RunDir
    from keras_gans.training.run_lock import refuse_if_in_use
    from keras_gans.training.validate import validate

    run_dir = RunDir(str(tmp_path))
    run_dir.write_json_atomic(run_dir.config, {"seed": 0})
    os.makedirs(run_dir.checkpoints)
    open(os.path.join(run_dir.checkpoints, "ckpt-00000004.npz"), "wb").close()
    refuse_if_in_use(str(tmp_path / "no_such_folder"))  # nothing there: no error, nothing created
    assert not (tmp_path / "no_such_folder").exists()
    with pytest.raises(UserError, match="different settings"):  # no live run: the settings check speaks
        validate(tiny_config(tmp_path, seed=2))
    holder = _holder(tmp_path)
    try:
        with pytest.raises(RunInProgressError, match=f"in use by another run \\(PID {holder.pid} on "):
            validate(tiny_config(tmp_path, seed=2))
    finally:
        holder.kill()
        holder.wait()
    assert json.load(open(run_dir.config)) == {"seed": 0}
    with pytest.raises(UserError, match="different settings"):  # the holder died: its lock is gone
        validate(tiny_config(tmp_path, seed=2))


def test_the_other_workers_of_a_cluster_do_not_probe_the_chiefs_lock(tmp_path, monkeypatch):
    # Multi-worker runs share one output_dir and only the chief takes the lock; a worker that
    # starts after the chief has taken it must not read that as another run.
    from conftest import tiny_config
    from keras_gans.training.validate import validate

    cluster = {"worker": ["localhost:1", "localhost:2"]}
    holder = _holder(tmp_path)
    try:
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
        validate(tiny_config(tmp_path))
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
        with pytest.raises(RunInProgressError):
            validate(tiny_config(tmp_path))
    finally:
        holder.kill()
        holder.wait()
