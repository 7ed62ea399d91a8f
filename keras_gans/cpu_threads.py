"""TensorFlow's CPU thread pools, set for a 2-core machine when keras_gans is imported and when a model is made.

TensorFlow gives each op up to one thread per core (intra-op) and runs up to
one op per core at a time (inter-op). On 2 cores, one thread per op and two
ops at a time trains small networks faster: a GAN step has many small
independent ops (the discriminator on real and fake images, the generator's
update beside the discriminator's gradients), and splitting each small
convolution over both cores costs more in synchronisation than it saves.
Measured with `benchmarks/cpu_threads.sh` (BENCHMARKS.md "CPU thread pools"):
4-22% less time a step for the gan, dcgan, wgan_gp and folder64 CPU presets
(convolutional widths 16 and 32, and the MLP). The article's convolutional
networks (width 64) are the opposite: its DCGAN recipe (batch 256) took 12%
more time a step that way, and its WGAN and WGAN-GP recipes the same time, so
convolutional models wider than 32 keep TensorFlow's own choice.

`import keras_gans` sets the small-network pools; a model's constructor (and
train.py, before it loads any data) then sets the pools its networks want,
which works as long as TensorFlow has not run an op yet (its pools exist from
then on and cannot change): the first model of a fresh process decides.

Other core counts keep TensorFlow's defaults (not measured here), and so
does any process whose user chose for themselves through TensorFlow's own
TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS variables.
"""

import os

MEASURED_CORES = 2
SETTINGS = {"intra_op": 1, "inter_op": 2}
TENSORFLOWS_CHOICE = {"intra_op": 0, "inter_op": 0}  # 0: TensorFlow picks (one per core)
# The widest convolutional networks measured faster with SETTINGS (the CPU presets: 16 and 32);
# the article's width 64 was not.
SMALL_CONV_WIDTH = 32
USER_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def available_cores():
    """The cores this process may run on (its affinity mask, as `taskset` sets it), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def chosen_settings(cores, environ, convolutional=False, width=None):
    """{"intra_op": n, "inter_op": m} to set for `cores` cores, or None to leave the pools alone.

    `convolutional` and `width` describe the model about to train (unknown at import: the
    small-network settings).
    """
    if cores != MEASURED_CORES or any(environ.get(name) for name in USER_VARIABLES):
        return None
    if convolutional and width is not None and width > SMALL_CONV_WIDTH:
        return dict(TENSORFLOWS_CHOICE)
    return dict(SETTINGS)


# What configure() last set, so that a later call can tell its own setting from the user's.
_last_set = None


def configure(convolutional=False, width=None):
    """Sets the thread pools `chosen_settings` picks; True if it set them.

    A no-op once TensorFlow has run an op (its pools exist by then and cannot
    change): a program that used TensorFlow before importing keras_gans keeps
    what it had. Also a no-op when the pools hold neither TensorFlow's default
    nor what this function set last: the user set them
    (`tf.config.threading`) and keeps them.
    """
    global _last_set
    settings = chosen_settings(available_cores(), os.environ, convolutional, width)
    if settings is None:
        return False
    import tensorflow as tf

    threading = tf.config.threading
    current = {"intra_op": threading.get_intra_op_parallelism_threads(),
               "inter_op": threading.get_inter_op_parallelism_threads()}
    if current != TENSORFLOWS_CHOICE and current != _last_set:
        return False
    try:
        threading.set_intra_op_parallelism_threads(settings["intra_op"])
        threading.set_inter_op_parallelism_threads(settings["inter_op"])
    except RuntimeError:  # TensorFlow already initialised its runtime
        return False
    _last_set = settings
    return True
