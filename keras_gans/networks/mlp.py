"""The fully connected GAN of Goodfellow et al. (2014), as the article builds it.

Generator 100-256-512-1024-784 and discriminator 784-1024-512-256-1, LeakyReLU
0.2, dropout 0.3 in the discriminator. `width` scales the hidden layers
(256 is the article's). Same contract as the DCGAN builders: the generator
returns images in [-1, 1], the discriminator returns [B, 1] logits.
"""

import math

import keras

from keras_gans.networks.layers import ReplicaDropout


def build_generator(latent_dim=100, image_shape=(28, 28, 1), width=256, name="generator"):
    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for units in (width, 2 * width, 4 * width):
        x = keras.layers.Dense(units)(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Dense(math.prod(image_shape), activation="tanh", dtype="float32")(x)
    images = keras.layers.Reshape(tuple(image_shape), dtype="float32")(x)
    return keras.Model(z, images, name=name)


def build_discriminator(image_shape=(28, 28, 1), width=256, dropout=0.3, name="discriminator"):
    images = keras.Input(shape=tuple(image_shape), name="images")
    x = keras.layers.Flatten()(images)
    for units in (4 * width, 2 * width, width):
        x = keras.layers.Dense(units)(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        # Different masks on every tf.distribute replica (Keras' Dropout repeats them).
        x = ReplicaDropout(dropout)(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
