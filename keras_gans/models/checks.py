"""Checks of a user's networks at build time, each failing in one line that names the fix."""

import keras

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


def _last_activation(network):
    """The activation of the last layer that has one (Dense, Conv, Activation), or None."""
    for layer in reversed(getattr(network, "layers", [])):
        if hasattr(layer, "layers"):  # a nested model: look inside it
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
