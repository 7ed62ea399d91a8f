"""TensorFlow's CPU thread pools, set for a 2-core machine when keras_gans is imported.

TensorFlow gives each op up to one thread per core (intra-op) and runs up to
one op per core at a time (inter-op). On 2 cores, one thread per op and two
ops at a time trains every CPU preset faster: a GAN step has many small
independent ops (the discriminator on real and fake images, the generator's
update beside the discriminator's gradients), and splitting each small
convolution over both cores costs more in synchronisation than it saves.
Measured with `benchmarks/cpu_threads.sh` (BENCHMARKS.md "CPU thread pools"):
4-22% less time a step for the gan, dcgan, wgan_gp and folder64 presets.

Other core counts keep TensorFlow's defaults (not measured here), and so
does any process whose user chose for themselves through TensorFlow's own
TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS variables.
"""

import os

MEASURED_CORES = 2
SETTINGS = {"intra_op": 1, "inter_op": 2}
USER_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def available_cores():
    """The cores this process may run on (its affinity mask, as `taskset` sets it), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def chosen_settings(cores, environ):
    """{"intra_op": n, "inter_op": m} to set for `cores` cores, or None to keep TensorFlow's choice."""
    if cores != MEASURED_CORES or any(environ.get(name) for name in USER_VARIABLES):
        return None
    return dict(SETTINGS)


def configure():
    """Sets the thread pools `chosen_settings` picks; True if it set them.

    A no-op once TensorFlow has run an op (its pools exist by then and cannot
    change): a program that used TensorFlow before importing keras_gans keeps
    what it had.
    """
    settings = chosen_settings(available_cores(), os.environ)
    if settings is None:
        return False
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(settings["intra_op"])
        tf.config.threading.set_inter_op_parallelism_threads(settings["inter_op"])
    except RuntimeError:  # TensorFlow already initialised its runtime
        return False
    return True
