"""TensorFlow's CPU thread pools: keras_gans sets them on 2 cores only, per model, and never over the user's choice."""

import os
import subprocess
import sys

import pytest

from keras_gans import cpu_threads

PROBE = ("import keras_gans, tensorflow as tf; {setup}; t = tf.config.threading; "
         "print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads())")


def test_two_cores_get_one_thread_per_op_and_two_ops_at_a_time():
    assert cpu_threads.chosen_settings(2, {}) == {"intra_op": 1, "inter_op": 2}


def test_wide_convolutional_networks_keep_tensorflows_choice_small_ones_and_mlps_do_not():
    assert cpu_threads.chosen_settings(2, {}, convolutional=True, width=64) == {"intra_op": 0, "inter_op": 0}
    assert cpu_threads.chosen_settings(2, {}, convolutional=True, width=32) == cpu_threads.SETTINGS
    assert cpu_threads.chosen_settings(2, {}, convolutional=True, width=16) == cpu_threads.SETTINGS
    assert cpu_threads.chosen_settings(2, {}, convolutional=False, width=256) == cpu_threads.SETTINGS
    assert cpu_threads.chosen_settings(4, {}, convolutional=True, width=64) is None


@pytest.mark.parametrize("cores", [1, 3, 4, 16, 96])
def test_other_core_counts_keep_tensorflows_defaults(cores):
    assert cpu_threads.chosen_settings(cores, {}) is None


@pytest.mark.parametrize("variable", cpu_threads.USER_VARIABLES)
def test_a_users_own_tensorflow_thread_variable_wins(variable):
    assert cpu_threads.chosen_settings(2, {variable: "2"}) is None
    assert cpu_threads.chosen_settings(2, {variable: ""}) == cpu_threads.SETTINGS  # set but empty: not a choice

needs_two_cores = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                                     reason="needs 2 cores to pin a process to")


def _pools_in_fresh_process(cpus, prelude="", setup="pass", **env):
    """(intra, inter) as TensorFlow reports them after `import keras_gans` and `setup`, in a process pinned to `cpus`."""
    environ = {k: v for k, v in os.environ.items() if k not in cpu_threads.USER_VARIABLES}
    environ.update(env)
    code = prelude + PROBE.format(setup=setup)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=300,
                         preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    assert out.returncode == 0, out.stderr[-2000:]
    return tuple(int(v) for v in out.stdout.split()[-2:])


@needs_two_cores
def test_import_sets_the_pools_on_two_cores_and_not_on_one():
    two = sorted(os.sched_getaffinity(0))[:2]
    assert _pools_in_fresh_process(set(two)) == (1, 2)
    assert _pools_in_fresh_process({two[0]}) == (0, 0)  # 0: TensorFlow's own default
    assert _pools_in_fresh_process(set(two), TF_NUM_INTRAOP_THREADS="2") == (0, 0)


@needs_two_cores
def test_importing_after_tensorflow_ran_an_op_changes_nothing_and_does_not_fail():
    # TensorFlow refuses new pool sizes once it has run an op; importing keras_gans then must neither fail nor change them.
    two = set(sorted(os.sched_getaffinity(0))[:2])
    assert _pools_in_fresh_process(two, prelude="import tensorflow as tf; tf.constant(1.0) + 1.0; ") == (0, 0)


@needs_two_cores
def test_the_first_model_sets_the_pools_its_networks_want():
    two = set(sorted(os.sched_getaffinity(0))[:2])
    assert _pools_in_fresh_process(two, setup="keras_gans.DCGAN(image_shape=(28, 28, 1))") == (0, 0)  # width 64
    assert _pools_in_fresh_process(two, setup="keras_gans.WGANGP(image_shape=(28, 28, 1), width=32)") == (1, 2)
    assert _pools_in_fresh_process(two, setup="keras_gans.GAN(image_shape=(28, 28, 1))") == (1, 2)
    # Pools the user set through tf.config.threading stay theirs.
    assert _pools_in_fresh_process(two, setup="tf.config.threading.set_intra_op_parallelism_threads(2); "
                                               "tf.config.threading.set_inter_op_parallelism_threads(1); "
                                               "keras_gans.DCGAN(image_shape=(28, 28, 1), width=32)") == (2, 1)
    # The first model fixes them: a second, wider one cannot change them (and does not fail).
    assert _pools_in_fresh_process(two, setup="keras_gans.DCGAN(image_shape=(28, 28, 1), width=32); "
                                               "keras_gans.DCGAN(image_shape=(28, 28, 1))") == (1, 2)


TRAIN_PY_PROBE = """
import sys, tensorflow as tf
import keras_gans.training.run as run
def report(*args, **kwargs):  # where the run would load its data: print the pools and stop
    t = tf.config.threading
    print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads())
    raise SystemExit(0)
run._train_and_save = report
sys.argv = ["train.py", "--flagfile=configs/dcgan.flags", "--dataset=sample", "--output_dir=" + sys.argv[1]]
import runpy; runpy.run_path("train.py", run_name="__main__")
"""


@needs_two_cores
def test_train_py_sets_the_models_pools_before_it_loads_data(tmp_path):
    # The article's DCGAN (width 64) wants TensorFlow's own choice; the import alone would have set (1, 2).
    two = set(sorted(os.sched_getaffinity(0))[:2])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environ = {k: v for k, v in os.environ.items() if k not in cpu_threads.USER_VARIABLES}
    out = subprocess.run([sys.executable, "-c", TRAIN_PY_PROBE, str(tmp_path / "run")], cwd=root, env=environ,
                         capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.sched_setaffinity(0, two))
    assert out.returncode == 0, out.stderr[-2000:]
    assert tuple(int(v) for v in out.stdout.split()[-2:]) == (0, 0)
