"""The DCGAN generator and discriminator (Radford et al. 2015), as the article builds them.

Contract shared by every network builder in this package:
  generator:     [B, latent_dim] float32 -> [B, H, W, C] in [-1, 1] (tanh)
  discriminator: [B, H, W, C] in [-1, 1] -> [B, 1] logits (never probabilities)

The convolutional stack works on a square canvas whose side is 4 * 2**k
(32 for MNIST-sized images, as in the article). Images smaller than the
canvas (28x28) are reflection-padded on the way into the discriminator and
centre-cropped on the way out of the generator, so both networks speak the
dataset's own shape.
"""

import math

import keras

from keras_gans.errors import UserError
from keras_gans.networks.layers import ReflectionPadding2D

# The article's initialisation: conv weights ~ N(0, 0.02); BatchNorm gamma ~ N(1, 0.02), beta = 0.
# A new initialiser for every layer, made as the network is built: a shared
# module-level instance draws its seed at import time, before
# keras.utils.set_random_seed, so --seed would not fix the weights, and it
# gives every same-shaped layer the same weights.
def conv_init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def gamma_init():
    return keras.initializers.RandomNormal(mean=1.0, stddev=0.02)


MIN_SIDE = 4


def canvas_size(image_shape):
    """Side of the square canvas (4 * 2**k, k >= 1) the conv stack works on."""
    height, width, channels = _check_image_shape(image_shape)
    if height != width:
        raise ValueError(
            f"DCGAN networks need square images, got {height}x{width}; "
            "resize your data (folder: datasets are resized to --image_size)."
        )
    if height < MIN_SIDE:
        # Smaller images would be reflection-padded by more than their own size on the way into D.
        raise UserError(
            f"DCGAN networks need images of at least {MIN_SIDE}x{MIN_SIDE}, got {height}x{width}: "
            f"use a larger --image_size (or the MLP GAN, --model=gan)"
        )
    levels = max(1, math.ceil(math.log2(height / 4)))
    return 4 * 2**levels


def _check_image_shape(image_shape):
    if len(image_shape) != 3 or any(int(d) <= 0 for d in image_shape):
        raise ValueError(
            f"image_shape must be (height, width, channels) with positive sizes, got {image_shape}"
        )
    return tuple(int(d) for d in image_shape)


def _split(total):
    """Split `total` padding pixels into (before, after), extra pixel after."""
    return total // 2, total - total // 2


def _batch_norm(name):
    # momentum 0.9 == PyTorch's default BatchNorm momentum of 0.1; epsilon as PyTorch.
    # synchronized=True: under tf.distribute the batch statistics are those of
    # the GLOBAL batch (one small all-reduce per BN layer), so training does not
    # depend on the replica count, as with a GAN's losses and noise; per-replica
    # statistics over e.g. 256/8 = 32 examples would be noisier and give D and G
    # replica-count-dependent behaviour. Outside a strategy it is plain BatchNorm.
    return keras.layers.BatchNormalization(
        momentum=0.9, epsilon=1e-5, gamma_initializer=gamma_init(), synchronized=True, name=name
    )


def build_generator(latent_dim=100, image_shape=(28, 28, 1), width=64, name="generator", resize_conv_layers=0):
    """DCGAN generator: project to 4x4, then stride-2 transposed convs up to the canvas.

    For a 32x32 canvas and width 64 the channels are 256 -> 128 -> 64 -> C,
    exactly the article's ConvT 100->256 (4x4, s1, p0) -> 128 -> 64 -> C stack.
    The first ConvT acts on a 1x1 input, so it is computed as the identical
    Dense projection (same weights, same function, faster).

    `resize_conv_layers=N` makes the last N upsamplings (the output layer
    counts as one) a nearest-neighbour x2 upsampling followed by a 3x3
    convolution with the same output channels (Odena et al. 2016,
    "Deconvolution and Checkerboard Artifacts"): a 4x4 stride-2 transposed
    convolution paints each output pixel from a different subset of its
    weights by position, which shows as a dotted texture with a 2- and
    4-pixel period in 64x64 samples. 0 (default) keeps the DCGAN's
    transposed convolutions throughout.
    """
    height, width_px, channels = _check_image_shape(image_shape)
    canvas = canvas_size(image_shape)
    levels = int(math.log2(canvas // 4))  # number of stride-2 upsamplings
    resize_conv_layers = check_resize_conv_layers(resize_conv_layers, image_shape)

    def upsample(x, filters, layer_name, level, **options):
        # Upsamplings level .. levels: the last `resize_conv_layers` of them are resize-convolutions.
        if level > levels - resize_conv_layers:
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{layer_name}_resize")(x)
            return keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=conv_init(),
                                       name=layer_name, **options)(x)
        return keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=conv_init(),
                                            name=layer_name, **options)(x)

    z = keras.Input(shape=(latent_dim,), name="z")
    filters = width * 2 ** (levels - 1)
    x = keras.layers.Dense(4 * 4 * filters, use_bias=False, kernel_initializer=conv_init(), name="project")(z)
    x = keras.layers.Reshape((4, 4, filters))(x)
    x = _batch_norm("project_bn")(x)
    x = keras.layers.ReLU()(x)
    for level in range(1, levels):
        filters //= 2
        x = upsample(x, filters, f"up{level}", level, use_bias=False)
        x = _batch_norm(f"up{level}_bn")(x)
        x = keras.layers.ReLU()(x)
    x = upsample(x, channels, "to_image", levels)
    x = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    if canvas != height:
        # float32 like the tanh before it: images leave the generator in float32 under any policy.
        x = keras.layers.Cropping2D(
            (_split(canvas - height), _split(canvas - width_px)), dtype="float32", name="crop"
        )(x)
    return keras.Model(z, x, name=name)


def check_resize_conv_layers(value, image_shape):
    """`value` as an int in [0, the generator's number of upsamplings], or a one-line UserError."""
    levels = int(math.log2(canvas_size(image_shape) // 4))
    try:
        count = int(value or 0)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= levels or count != float(value or 0):
        raise UserError(
            f"resize_conv_layers must be a whole number from 0 to {levels} (the generator's upsamplings for "
            f"{image_shape[0]}x{image_shape[1]} images), got {value!r}"
        )
    return count


def build_discriminator(image_shape=(28, 28, 1), width=64, batch_norm=True, name="discriminator"):
    """DCGAN discriminator: stride-2 convs down to 4x4, then a 4x4 valid conv to one logit.

    For a 32x32 canvas and width 64: Conv C->64 -> 128 (BN) -> 256 (BN), LeakyReLU 0.2,
    then Conv 256->1 (4x4 valid). `batch_norm=False` gives the WGAN-GP critic,
    whose gradient penalty is defined per example and so must not mix examples
    through batch statistics.
    """
    height, width_px, channels = _check_image_shape(image_shape)
    canvas = canvas_size(image_shape)
    levels = int(math.log2(canvas // 4))

    images = keras.Input(shape=(height, width_px, channels), name="images")
    x = images
    if canvas != height:
        x = ReflectionPadding2D((_split(canvas - height), _split(canvas - width_px)), name="pad")(x)
    filters = width
    for level in range(levels):
        x = keras.layers.Conv2D(
            filters, 4, strides=2, padding="same", use_bias=not (batch_norm and level > 0),
            kernel_initializer=conv_init(), name=f"down{level}",
        )(x)
        if batch_norm and level > 0:
            x = _batch_norm(f"down{level}_bn")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        filters *= 2
    x = keras.layers.Conv2D(1, 4, padding="valid", kernel_initializer=conv_init(), name="to_logit")(x)
    logits = keras.layers.Flatten(dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
