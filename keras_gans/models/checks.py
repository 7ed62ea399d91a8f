"""Checks of a user's networks at build time, each failing in one line that names the fix."""

import keras
import tensorflow as tf

from keras_gans.errors import UserError


def check_generator_input(generator, latent_dim):
    """Refuses a generator whose input size is not `latent_dim` (otherwise the first step fails)."""
    inputs = getattr(generator, "inputs", None)
    if not inputs:
        return  # a subclassed network without a known input: it fails at the first call
    size = inputs[0].shape[-1]
    if size is not None and int(size) != latent_dim:
        raise UserError(
            f"the generator takes inputs of size {size} but latent_dim is {latent_dim}; "
            f"pass latent_dim={size} or build the generator for {latent_dim}"
        )


def _is_graph(network):
    # Only a Sequential or functional model lists its layers in the order they
    # run; a subclassed model lists them as created, which says nothing about its output.
    return isinstance(network, keras.Sequential) or type(network).__name__ == "Functional"


def _last_activation(network):
    """The activation of the last layer that has one (Dense, Conv, Activation), or None."""
    if not _is_graph(network):
        return None
    for layer in reversed(network.layers):
        if _is_graph(layer):  # a nested model: look inside it
            found = _last_activation(layer)
            if found is not None:
                return found
        layer = getattr(layer, "layer", layer)  # a Wrapper (e.g. SpectralNormalization): its inner layer
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return activation
    return None


def check_discriminator_logits(discriminator):
    """Refuses a discriminator ending in a sigmoid: the losses take logits and would apply a second one."""
    if _last_activation(discriminator) is keras.activations.sigmoid:
        raise UserError(
            "the discriminator ends in a sigmoid, but the losses expect logits (they apply the sigmoid "
            "themselves); remove the final activation (e.g. Dense(1) instead of Dense(1, activation='sigmoid'))"
        )


def n_critic_message(model_name, n_critic, size):
    return (
        f"{model_name} with n_critic={n_critic} uses a fresh real batch for every critic update, so each "
        f"train step needs n_critic * batch_size images; got a batch of {size}. Batch the data at "
        f"n_critic * batch_size with drop_remainder=True, e.g. keras_gans.data.load(spec, batch_size={n_critic} * 64)."
    )


def check_critic_batches(x, batch_size, n_critic, model_name):
    """`x` for `fit`, checked so a batch that does not split into `n_critic` critic batches fails in one line.

    The train step checks batches of known size itself; this catches the ones
    known only at run time, before XLA (which drops assertions) sees them:
    a tf.data.Dataset whose batch size is not static (batched without
    drop_remainder) gets an assertion in the input pipeline, and arrays
    batched by `fit(x, batch_size=...)` are checked here, ragged last batch
    included.
    """
    if n_critic == 1 or x is None:
        return x
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec[0] if isinstance(x.element_spec, tuple) else x.element_spec
        if not isinstance(spec, tf.TensorSpec) or spec.shape.rank is None or spec.shape[0] is not None:
            return x

        def check(*batch):
            first = batch[0]
            size = tf.shape(first)[0]
            message = n_critic_message(model_name, n_critic, "not divisible by n_critic")
            with tf.control_dependencies([tf.debugging.assert_equal(size % n_critic, 0, message=message)]):
                return tuple(tf.identity(t) for t in batch) if len(batch) > 1 else tf.identity(first)

        return x.map(check)
    if hasattr(x, "shape") and len(getattr(x, "shape", ())) > 0:
        total, batch = int(x.shape[0]), int(batch_size or 32)  # 32: Keras' default batch_size
        for size in {min(batch, total), total % batch} - {0}:
            if size % n_critic:
                raise UserError(n_critic_message(model_name, n_critic, size))
    return x
