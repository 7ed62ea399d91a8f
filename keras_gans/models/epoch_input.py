"""One input iterator for all of `fit`'s epochs, as train.py has.

Keras' `fit` on a finite `tf.data.Dataset` starts a new iterator every
epoch, and the first train step on a new iterator can stall for seconds
(measured with TF 2.21 / Keras 3.15 on CPU: 2-5 s for the folder64 DCGAN
step, 0.4 s for a two-layer convnet, in about half the epochs; an epoch of
118 steps took 10 s instead of 6). Given `steps_per_epoch`, Keras keeps one
iterator across epochs instead. `train.py` always feeds an endless stream
with `steps_per_epoch`; this gives `model.fit(dataset, epochs=N)` the same:
`dataset.repeat()` with `steps_per_epoch` = the dataset's batches, so every
epoch is still one pass over the dataset, batch for batch (a dataset that
reshuffles each iteration still reshuffles for each pass), and a dataset
without shuffling trains to the same weights (tests/test_epoch_input.py).
BENCHMARKS.md "Python API: one input iterator for all epochs" has the timing.
"""

import tensorflow as tf

from keras_gans import distribute

# fit's parameters after x, in Keras' order, up to the ones read here.
_FIT_POSITIONAL = ("y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
                   "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch")


def repeat_for_epochs(x, args, kwargs, strategy):
    """`(x, kwargs)` for `fit`: a finite dataset as an endless one with `steps_per_epoch`, else unchanged.

    Left unchanged: anything but a tf.data.Dataset; a dataset of unknown or
    infinite length; a fit that gives `steps_per_epoch` itself or runs a
    single epoch; and a distributed strategy, where a worker's share of the
    batches is not the dataset's length.
    """
    if not isinstance(x, tf.data.Dataset) or distribute.is_distributed(strategy):
        return x, kwargs
    if len(args) >= len(_FIT_POSITIONAL) or kwargs.get("steps_per_epoch") is not None:
        return x, kwargs  # steps_per_epoch given (positionally, even as None: it cannot be passed twice)
    given = dict(zip(_FIT_POSITIONAL, args))
    epochs = given.get("epochs", kwargs.get("epochs", 1))
    initial_epoch = given.get("initial_epoch", kwargs.get("initial_epoch", 0))
    if epochs - initial_epoch <= 1:
        return x, kwargs  # one epoch uses one iterator anyway
    batches = int(x.cardinality())
    if batches <= 0:  # tf.data.UNKNOWN_CARDINALITY (-2), INFINITE_CARDINALITY (-1), or empty: Keras says so
        return x, kwargs
    return x.repeat(), {**kwargs, "steps_per_epoch": batches}
