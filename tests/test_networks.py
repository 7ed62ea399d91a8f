"""The network contract: shapes, value range, logits, and the article's layer choices."""

import keras
import numpy as np
import pytest

from keras_gans.networks import dcgan, mlp


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3), (16, 16, 1)])
def test_dcgan_pair_speaks_the_image_shape(shape):
    generator = dcgan.build_generator(latent_dim=12, image_shape=shape, width=8)
    discriminator = dcgan.build_discriminator(shape, width=8)
    images = generator.predict(np.random.default_rng(0).normal(size=(3, 12)).astype("float32"), verbose=0)
    assert images.shape == (3, *shape)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert discriminator.predict(images, verbose=0).shape == (3, 1)


def test_article_dcgan_channels_for_mnist():
    # 28x28 runs on a 32x32 canvas: 4x4x256 -> 8x8x128 -> 16x16x64 -> 32x32x1, cropped to 28.
    generator = dcgan.build_generator(100, (28, 28, 1), width=64)
    shapes = [tuple(layer.output.shape[1:]) for layer in generator.layers if layer.name in ("project_bn", "up1", "up2", "to_image")]
    assert shapes == [(4, 4, 256), (8, 8, 128), (16, 16, 64), (32, 32, 1)]
    discriminator = dcgan.build_discriminator((28, 28, 1), width=64)
    shapes = [tuple(layer.output.shape[1:]) for layer in discriminator.layers if layer.name.startswith(("pad", "down", "to_logit"))]
    assert shapes == [(32, 32, 1), (16, 16, 64), (8, 8, 128), (8, 8, 128), (4, 4, 256), (4, 4, 256), (1, 1, 1)]


def test_discriminator_returns_unbounded_logits():
    discriminator = dcgan.build_discriminator((32, 32, 1), width=8)
    for layer in discriminator.layers[1:]:
        if hasattr(layer, "kernel"):
            layer.kernel.assign(layer.kernel * 50.0)
    logits = discriminator.predict(np.random.default_rng(1).uniform(-1, 1, (8, 32, 32, 1)).astype("float32"), verbose=0)
    assert np.abs(logits).max() > 1.0  # a sigmoid would keep it in (0, 1)


def test_wgan_gp_critic_has_no_batch_norm():
    with_bn = dcgan.build_discriminator((32, 32, 1), width=8, batch_norm=True)
    without_bn = dcgan.build_discriminator((32, 32, 1), width=8, batch_norm=False)
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in with_bn.layers) == 2
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in without_bn.layers)


def test_dcgan_rejects_non_square_images():
    with pytest.raises(ValueError, match="square"):
        dcgan.build_generator(10, (28, 32, 1))


def test_mlp_pair_matches_the_article():
    generator = mlp.build_generator(100, (28, 28, 1))
    discriminator = mlp.build_discriminator((28, 28, 1))
    units = [layer.units for layer in generator.layers if hasattr(layer, "units")]
    assert units == [256, 512, 1024, 784]
    units = [layer.units for layer in discriminator.layers if hasattr(layer, "units")]
    assert units == [1024, 512, 256, 1]
    assert [layer.rate for layer in discriminator.layers if hasattr(layer, "rate")] == [0.3] * 3
    images = generator.predict(np.zeros((2, 100), "float32"), verbose=0)
    assert images.shape == (2, 28, 28, 1)
    assert discriminator.predict(images, verbose=0).shape == (2, 1)


def test_spectral_norm_brings_the_largest_singular_value_to_one():
    from keras_gans.networks.spectral import with_spectral_norm

    keras.utils.set_random_seed(0)  # the kernels and the power iteration's start vector are random
    discriminator = dcgan.build_discriminator((16, 16, 1), width=4)
    normalised = with_spectral_norm(discriminator)
    wrapped = [l for l in normalised.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert [l.layer.name for l in wrapped] == ["down0", "down1", "to_logit"]
    assert with_spectral_norm(normalised) is normalised  # already normalised: left alone
    kernel = wrapped[1].layer.kernel
    for layer in wrapped:
        layer.kernel.assign(layer.kernel * 30.0)  # sigma far from 1
    images = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    # One power iteration per training call; 20 calls left sigma at 1.039 for one unlucky start (CI, stop 25),
    # 100 calls converged to 1.000 for all of 15 seeds tried.
    for _ in range(100):
        normalised(images, training=True)
    sigma = np.linalg.svd(kernel.numpy().reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, abs=0.005)


def test_dcgan_paper_64x64_channels():
    # 8w -> 4w -> 2w -> w in G (4x4x512 ... 32x32x64 -> 64x64x3), mirrored in D.
    generator = dcgan.build_generator(100, (64, 64, 3), width=64)
    shapes = [tuple(l.output.shape[1:]) for l in generator.layers if l.name in ("project_bn", "up1", "up2", "up3", "to_image")]
    assert shapes == [(4, 4, 512), (8, 8, 256), (16, 16, 128), (32, 32, 64), (64, 64, 3)]
    discriminator = dcgan.build_discriminator((64, 64, 3), width=64)
    shapes = [tuple(l.output.shape[1:]) for l in discriminator.layers if l.name.startswith(("down", "to_logit")) and not l.name.endswith("_bn")]
    assert shapes == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512), (1, 1, 1)]


def _upsampling_kinds(generator):
    names = [f"up{level}" for level in range(1, 8)] + ["to_image"]
    return [type(layer).__name__ for layer in generator.layers if layer.name in names]


@pytest.mark.parametrize("count", [0, 1, 2, 4])
def test_resize_conv_layers_turn_the_last_upsamplings_into_resize_convolutions(count):
    generator = dcgan.build_generator(latent_dim=12, image_shape=(64, 64, 3), width=8, resize_conv_layers=count)
    assert _upsampling_kinds(generator) == ["Conv2DTranspose"] * (4 - count) + ["Conv2D"] * count
    resizes = [layer for layer in generator.layers if isinstance(layer, keras.layers.UpSampling2D)]
    assert len(resizes) == count and all(layer.interpolation == "nearest" for layer in resizes)
    if count:  # the output layer keeps its bias and the image's channels, a 3x3 kernel instead of 4x4
        assert generator.get_layer("to_image").kernel.shape == (3, 3, 8, 3)
    images = generator.predict(np.random.default_rng(0).normal(size=(2, 12)).astype("float32"), verbose=0)
    assert images.shape == (2, 64, 64, 3) and images.min() >= -1.0 and images.max() <= 1.0


def test_resize_conv_layers_at_28x28_keep_the_crop_and_zero_keeps_the_article_network():
    generator = dcgan.build_generator(100, (28, 28, 1), width=8, resize_conv_layers=1)
    assert generator.output_shape == (None, 28, 28, 1)
    assert _upsampling_kinds(generator) == ["Conv2DTranspose", "Conv2DTranspose", "Conv2D"]
    keras.utils.set_random_seed(3)
    default = dcgan.build_generator(100, (28, 28, 1), width=8)
    keras.utils.set_random_seed(3)
    explicit = dcgan.build_generator(100, (28, 28, 1), width=8, resize_conv_layers=0)
    assert [w.shape for w in default.weights] == [w.shape for w in explicit.weights]
    for a, b in zip(default.weights, explicit.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("value", [-1, 4, 1.5, "two"])
def test_resize_conv_layers_out_of_range_is_a_one_line_error(value):
    from keras_gans.errors import UserError

    # A 28x28 generator has 3 upsamplings (4 -> 8 -> 16 -> 32, cropped to 28).
    with pytest.raises(UserError, match=r"resize_conv_layers must be a whole number from 0 to 3 .*28x28"):
        dcgan.build_generator(100, (28, 28, 1), width=8, resize_conv_layers=value)


@pytest.mark.parametrize("side", [1, 2, 3])
def test_dcgan_networks_refuse_images_smaller_than_4x4_in_one_line(side):
    # Reflection padding to the 8x8 canvas would pad by more than the image's own size, failing deep in TensorFlow.
    from keras_gans.errors import UserError
    import keras_gans

    with pytest.raises(UserError, match=rf"at least 4x4, got {side}x{side}"):
        keras_gans.DCGAN(image_shape=(side, side, 3), width=4)
