"""The serving latent contract: a seed names the same latents everywhere."""

import numpy as np
import tensorflow as tf

from keras_gans import latents


def test_a_seed_names_fixed_philox_latents():
    z = latents.latent_vectors(3, 5, 7).numpy()
    assert z.shape == (3, 5) and z.dtype == np.float32
    expected = tf.random.stateless_normal([3, 5], seed=[7, 0], alg="philox").numpy()
    np.testing.assert_array_equal(z, expected)
    assert not np.array_equal(z, latents.latent_vectors(3, 5, 8).numpy())


def test_old_import_paths_are_the_same_function():
    from keras_gans.models import gan, latent_vectors

    assert gan.latent_vectors is latents.latent_vectors and latent_vectors is latents.latent_vectors
