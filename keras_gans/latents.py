"""The serving latent contract: which latent vectors a seed names.

`model.generate(n, seed)`, the exported generator's `generate` signature,
`keras_gans.evaluate` and the benchmarks all call `latent_vectors`, so one
integer seed names the same images in Python and in TF Serving.
"""

import tensorflow as tf


def latent_vectors(num, latent_dim, seed):
    """Stateless N(0, 1) latents of shape [num, latent_dim] for an integer `seed`."""
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    # Philox named explicitly, so the latents do not depend on the device's
    # "auto_select": a seed must name the same images here and in the export.
    return tf.random.stateless_normal([num, latent_dim], seed=seed, dtype=tf.float32, alg="philox")


def class_labels(num, num_classes, seed):
    """Stateless uniform class ids [num] in [0, num_classes) for an integer `seed`.

    What a conditional model's `generate(n, seed)` and the export's `label=-1`
    draw; another stream of the seed ([seed, 1]) than the latents.
    """
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(1, tf.int64)])
    return tf.random.stateless_uniform([num], seed=seed, minval=0, maxval=num_classes, dtype=tf.int32, alg="philox")
