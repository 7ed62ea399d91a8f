"""Spectral normalisation of a discriminator (Miyato et al. 2018).

Every Dense and convolution layer is wrapped in
`keras.layers.SpectralNormalization`, which divides the kernel by an estimate
of its largest singular value, refined by one power iteration per training
call. Keras' layer ASSIGNS the normalised kernel back to the kernel variable
(so the trained weights are the normalised ones) and keeps the power
iteration's vector `vector_u` as a non-trainable weight: it is saved in
`.keras` files and, being one of `model.variables`, in checkpoints too. Because the kernel is projected
rather than reparametrised, gradients do not flow through the estimate of
the singular value as in the paper; the effect, a critic whose layers have
spectral norm ~1 after every training call, is the same.
"""

import keras

from keras_gans.errors import UserError

_WRAPPED = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def with_spectral_norm(discriminator):
    """A copy of `discriminator` whose Dense/Conv layers are spectrally normalised.

    Layers already wrapped are left as they are, so applying it to a
    normalised network (e.g. one loaded from a saved model) changes nothing.
    """
    if any(isinstance(layer, keras.layers.SpectralNormalization) for layer in discriminator.layers):
        return discriminator

    def wrap(layer):
        clone = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, _WRAPPED):
            return keras.layers.SpectralNormalization(clone, name=f"{layer.name}_sn")
        return clone

    try:
        return keras.models.clone_model(discriminator, clone_function=wrap)
    except Exception as error:  # a subclassed network clone_model cannot rebuild
        raise UserError(
            f"spectral_norm needs to rebuild the discriminator, and keras.models.clone_model failed "
            f"({type(error).__name__}: {error}); wrap its layers in keras.layers.SpectralNormalization "
            f"yourself and pass spectral_norm=False"
        ) from None
