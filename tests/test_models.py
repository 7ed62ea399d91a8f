"""The four models: a few real training steps, what they update, clipping, saving, sampling."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans.callbacks import WeightClipping
from keras_gans.errors import UserError
from conftest import random_images

MODELS = [keras_gans.GAN, keras_gans.DCGAN, keras_gans.WGAN, keras_gans.WGANGP]


def tiny_model(cls, **kwargs):
    kwargs.setdefault("width", 8)
    kwargs.setdefault("latent_dim", 8)
    return cls(image_shape=(28, 28, 1), seed=0, **kwargs)


def compile_eager_graph(model, **kwargs):
    # Tests of the algorithm run without XLA: compiling n_critic=5 unrolled
    # critic updates takes far longer than these few steps. XLA is exercised
    # by test_train.py and the fast-path equivalence tests.
    kwargs.setdefault("jit_compile", False)
    model.compile(**kwargs)


def tiny_dataset(model, steps=3, batch=8):
    images = random_images(steps * batch * model.n_critic)
    return tf.data.Dataset.from_tensor_slices(images).batch(batch * model.n_critic, drop_remainder=True)


def snapshot(variables):
    return [v.numpy().copy() for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


def should_update(model):
    """The critic's output bias cancels in E[D(x)] - E[D(G(z))] and in the gradient
    penalty, so a Wasserstein critic never gets a gradient for it."""
    variables = model.discriminator.trainable_variables
    if isinstance(model, keras_gans.WGAN):
        return [v.path != "to_logit/bias" for v in variables]
    return [True] * len(variables)


def updated_or_clipped(model, before):
    clip = getattr(model, "clip_value", 0.0)
    result = []
    for b, v in zip(before, model.discriminator.trainable_variables):
        value = v.numpy()
        # A WGAN weight pushed to the clipping bound stays there: that is an update too.
        at_bound = clip > 0 and np.allclose(np.abs(value), clip)
        result.append(not np.array_equal(b, value) or at_bound)
    return result


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_training_steps_update_every_weight_with_finite_losses(cls):
    model = tiny_model(cls)
    compile_eager_graph(model)
    g_before = snapshot(model.generator.trainable_variables)
    d_before = snapshot(model.discriminator.trainable_variables)
    history = model.fit(tiny_dataset(model), epochs=1, verbose=0).history
    expected = {"d_loss", "g_loss", "d_real", "d_fake"}
    if cls in (keras_gans.WGAN, keras_gans.WGANGP):
        expected.add("wasserstein")
    if cls is keras_gans.WGANGP:
        expected.add("gradient_penalty")
    assert expected <= set(history)
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert all(changed(g_before, model.generator.trainable_variables))
    assert updated_or_clipped(model, d_before) == should_update(model)
    # n_critic discriminator updates per generator update.
    assert int(model.d_optimizer.iterations.numpy()) == 3 * model.n_critic
    assert int(model.g_optimizer.iterations.numpy()) == 3


@pytest.mark.parametrize("cls", [keras_gans.DCGAN, keras_gans.WGANGP], ids=lambda c: c.__name__)
def test_each_update_touches_only_its_own_network(cls):
    # A zero learning rate for one network must leave it exactly as it was:
    # the other network's update must not leak into it. In float32: once in a full CI run (unseeded
    # weights, bfloat16) D's output bias came out of two updates unchanged; not reproduced alone in
    # 72 seeded runs. float32 rules out a bfloat16 gradient that rounds to exactly 0.
    model = tiny_model(cls, precision="float32")
    compile_eager_graph(model, g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.1))
    g_before = snapshot(model.generator.trainable_variables)
    d_before = snapshot(model.discriminator.trainable_variables)
    model.fit(tiny_dataset(model, steps=2), epochs=1, verbose=0)
    assert not any(changed(g_before, model.generator.trainable_variables))
    assert changed(d_before, model.discriminator.trainable_variables) == should_update(model)

    model = tiny_model(cls)
    compile_eager_graph(model, g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.0))
    g_before = snapshot(model.generator.trainable_variables)
    d_before = snapshot(model.discriminator.trainable_variables)
    model.fit(tiny_dataset(model, steps=2), epochs=1, verbose=0)
    assert all(changed(g_before, model.generator.trainable_variables))
    assert not any(changed(d_before, model.discriminator.trainable_variables))


def critic_bound(model):
    return max(float(np.abs(v.numpy()).max()) for v in model.discriminator.trainable_variables)


def test_wgan_clips_after_every_critic_update_by_default():
    model = tiny_model(keras_gans.WGAN, n_critic=2)
    compile_eager_graph(model, d_optimizer=keras.optimizers.SGD(1.0))  # huge steps: every weight leaves [-c, c]
    model.fit(tiny_dataset(model), epochs=1, verbose=0)
    assert critic_bound(model) == pytest.approx(0.01)


def test_weight_clipping_callback_is_exact_with_steps_per_execution():
    model = tiny_model(keras_gans.WGAN, clip_value=0, n_critic=2)  # no built-in clipping
    compile_eager_graph(model, d_optimizer=keras.optimizers.SGD(1.0), steps_per_execution=3)
    model.fit(tiny_dataset(model, steps=3), epochs=1, verbose=0)
    assert critic_bound(model) > 0.05  # without clipping the weights do leave the box

    model = tiny_model(keras_gans.WGAN, clip_value=0, n_critic=2)
    compile_eager_graph(model, d_optimizer=keras.optimizers.SGD(1.0), steps_per_execution=3)
    model.fit(tiny_dataset(model, steps=3), epochs=1, verbose=0, callbacks=[WeightClipping(0.02)])
    assert critic_bound(model) == pytest.approx(0.02)


def test_clip_constraint_runs_after_each_update_not_after_each_step():
    # With n_critic=3 a single train step holds 3 critic updates; a constraint
    # clips after each, so the critic weights seen by every update are in the box.
    seen = []

    class Recording(keras_gans.WGAN):
        def _discriminator_step(self, real):
            seen.append(None)
            return super()._discriminator_step(real)

    model = Recording(image_shape=(28, 28, 1), width=8, latent_dim=8, seed=0, n_critic=3)
    compile_eager_graph(model, d_optimizer=keras.optimizers.SGD(1.0))
    variable = model.discriminator.trainable_variables[0]
    assert variable.constraint is not None
    model.fit(tiny_dataset(model, steps=1), epochs=1, verbose=0)
    assert len(seen) and len(seen) % 3 == 0  # each trace holds three critic updates
    assert float(np.abs(variable.numpy()).max()) <= 0.01 + 1e-7


def test_indivisible_batch_for_n_critic_says_how_to_fix():
    model = tiny_model(keras_gans.WGANGP)
    compile_eager_graph(model)
    images = tf.data.Dataset.from_tensor_slices(random_images(14)).batch(7, drop_remainder=True)
    with pytest.raises(ValueError, match="n_critic \\* batch_size"):
        model.fit(images, epochs=1, verbose=0)


@pytest.mark.parametrize("cls", [keras_gans.DCGAN, keras_gans.WGANGP], ids=lambda c: c.__name__)
def test_saves_and_loads_as_keras_file(cls, tmp_path):
    smoothing = 0.1 if cls.loss_kind == "bce" else 0.0  # BCE only (refused with other losses)
    model = tiny_model(cls, label_smoothing=smoothing, instance_noise=0.02)
    compile_eager_graph(model, d_optimizer=keras.optimizers.Adam(3e-4))
    model.fit(tiny_dataset(model, steps=2), epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is cls
    assert loaded.get_config()["label_smoothing"] == smoothing
    assert loaded.get_config()["instance_noise"] == 0.02
    np.testing.assert_array_equal(model.generate(4, seed=7), loaded.generate(4, seed=7))
    assert float(loaded.d_optimizer.learning_rate.numpy()) == pytest.approx(3e-4)
    assert int(loaded.d_optimizer.iterations.numpy()) == int(model.d_optimizer.iterations.numpy())
    loaded.fit(tiny_dataset(loaded, steps=1), epochs=1, verbose=0)  # and it trains on


def test_generate_is_deterministic_per_seed_and_in_range():
    model = tiny_model(keras_gans.DCGAN)
    images = model.generate(6, seed=3)
    assert images.shape == (6, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    np.testing.assert_array_equal(images, model.generate(6, seed=3))
    assert not np.array_equal(images, model.generate(6, seed=4))
    with pytest.raises(ValueError, match="positive"):
        model.generate(0)


def test_article_defaults():
    gan, dcgan, wgan, wgan_gp = (cls(seed=0) for cls in MODELS)
    for model in (gan, dcgan, wgan, wgan_gp):
        compile_eager_graph(model)
    assert type(gan.d_optimizer).__name__ == "Adam" and float(gan.d_optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    assert gan.instance_noise == 0.05 and dcgan.instance_noise == 0.0 and dcgan.label_smoothing == 0.0
    assert dcgan.g_optimizer.beta_1 == 0.5 and float(dcgan.g_optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    assert type(wgan.d_optimizer).__name__ == "RMSprop" and wgan.n_critic == 5 and wgan.clip_value == 0.01
    assert wgan_gp.d_optimizer.beta_1 == 0.0 and wgan_gp.d_optimizer.beta_2 == 0.9
    assert wgan_gp.n_critic == 5 and wgan_gp.gp_weight == 10.0
    assert wgan_gp.discriminator.trainable_variables[0].constraint is None  # no clipping in WGAN-GP


# ----- generator averaging (ema_decay) --------------------------------------------


def stated_average(initial, raw_after_each_update, decay):
    """The documented recurrence, in numpy: after the t-th generator update
    average = d * average + (1 - d) * raw, with d = min(decay, (1 + t) / (10 + t))."""
    average = [w.astype(np.float64) for w in initial]
    for t, raw in enumerate(raw_after_each_update, start=1):
        d = min(decay, (1.0 + t) / (10.0 + t))
        average = [d * a + (1.0 - d) * r for a, r in zip(average, raw)]
    return average


@pytest.mark.parametrize("cls", [keras_gans.GAN, keras_gans.DCGAN, keras_gans.WGANGP], ids=lambda c: c.__name__)
def test_generator_average_is_the_stated_average_after_k_steps(cls):
    # 0.8 is below the warm-up term from t = 31 on: run past it, so both regimes are checked.
    model = tiny_model(cls, ema_decay=0.8, n_critic=1)
    compile_eager_graph(model, g_optimizer=keras.optimizers.Adam(1e-3))
    initial = model.generator.get_weights()
    np.testing.assert_array_equal(np.concatenate([w.ravel() for w in initial]),
                                  np.concatenate([w.ravel() for w in model.ema_generator.get_weights()]))
    raw = []
    images = random_images(8)
    for _ in range(34):
        model.train_on_batch(images)
        raw.append(model.generator.get_weights())
    expected = stated_average(initial, raw, 0.8)
    for want, got in zip(expected, model.ema_generator.get_weights()):
        np.testing.assert_allclose(got, want, atol=2e-6)
    # It is an average, not a copy: it differs from the raw weights (BN statistics included).
    assert max(np.max(np.abs(a - b)) for a, b in zip(model.ema_generator.get_weights(), raw[-1])) > 1e-3
    # Training updates only the raw generator; the average has no trainable weights.
    assert not model.ema_generator.trainable_weights


def test_generate_samples_from_the_average_when_enabled():
    model = tiny_model(keras_gans.DCGAN, ema_decay=0.9)
    compile_eager_graph(model)
    model.fit(tiny_dataset(model, steps=3), epochs=1, verbose=0)
    z = keras_gans.models.gan.latent_vectors(5, model.latent_dim, 11)
    from_average = model.ema_generator(z, training=False).numpy()
    from_average_kernel = model.ema_generator.get_weights()[0]
    from_raw = model.generator(z, training=False).numpy()
    assert np.max(np.abs(from_average - from_raw)) > 0.05 * np.max(np.abs(from_raw))  # tiny net: small outputs
    # Through the average with standing BatchNorm statistics (tests/test_standing_statistics.py).
    np.testing.assert_array_equal(model.generate(5, seed=11), model.sampling_network()(z, training=False).numpy())
    assert model.sampling_generator is model.ema_generator
    assert model.sampling_network().get_weights()[0].tobytes() == from_average_kernel.tobytes()
    # Off (the default): no copy, and samples come from the trained generator.
    plain = tiny_model(keras_gans.DCGAN)
    assert plain.ema_generator is None and plain.sampling_generator is plain.generator
    assert plain.sampling_network() is plain.generator


def test_generator_average_survives_save_and_load(tmp_path):
    model = tiny_model(keras_gans.DCGAN, ema_decay=0.9)
    compile_eager_graph(model)
    model.fit(tiny_dataset(model, steps=2), epochs=1, verbose=0)
    model.save(str(tmp_path / "model.keras"))
    loaded = keras.models.load_model(str(tmp_path / "model.keras"))
    assert loaded.ema_decay == 0.9
    for a, b in zip(model.ema_generator.get_weights(), loaded.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.generate(4, seed=2), loaded.generate(4, seed=2))


def test_bad_ema_decay_is_refused():
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="ema_decay must be in \\[0, 1\\)"):
            tiny_model(keras_gans.DCGAN, ema_decay=bad)


# ----- configuration by attributes, stabilisers ---------------------------------------


def small_model(cls, image_shape=(16, 16, 1), **kwargs):
    kwargs.setdefault("width", 4)
    kwargs.setdefault("latent_dim", 4)
    kwargs.setdefault("n_critic", 1)
    return cls(image_shape=image_shape, seed=0, **kwargs)


def small_fit(model, steps=2, batch=4):
    images = random_images(steps * batch * model.n_critic, shape=model.image_shape)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(batch * model.n_critic, drop_remainder=True)
    return model.fit(dataset, epochs=1, verbose=0).history


def test_loss_kind_is_a_class_attribute_that_loss_overrides():
    assert [cls.loss_kind for cls in MODELS] == ["bce", "bce", "wasserstein", "wasserstein"]
    assert small_model(keras_gans.WGAN, loss="hinge").loss_kind == "hinge"
    assert keras_gans.WGAN.loss_kind == "wasserstein"  # the instance did not change the class
    with pytest.raises(keras_gans.errors.UserError, match="loss must be one of bce, wasserstein, hinge"):
        small_model(keras_gans.DCGAN, loss="lsgan")


def test_wgan_gp_is_configured_not_switched_off():
    model = small_model(keras_gans.WGANGP)
    assert model.clip_value == 0.0 and model.gp_weight == 10.0
    assert all(v.constraint is None for v in model.discriminator.trainable_variables)
    assert small_model(keras_gans.WGAN).gp_weight == 0.0 and small_model(keras_gans.WGAN).clip_value == 0.01


def fitted_variables(cls, steps=2, **kwargs):
    keras.utils.set_random_seed(5)  # the same initial weights for both runs
    model = small_model(cls, **kwargs)
    compile_eager_graph(model)
    small_fit(model, steps=steps)
    return model, [v.numpy() for v in model.variables]


@pytest.mark.parametrize("cls", [keras_gans.DCGAN, keras_gans.WGANGP], ids=lambda c: c.__name__)
def test_stabilisers_off_train_exactly_as_without_them(cls):
    _, plain = fitted_variables(cls)
    _, explicit = fitted_variables(cls, loss=cls.loss_kind, spectral_norm=False, r1_gamma=0.0, diffaugment="")
    assert len(plain) == len(explicit)
    for a, b in zip(plain, explicit):
        np.testing.assert_array_equal(a, b)


STABILISERS = [
    {"loss": "hinge"},
    {"spectral_norm": True},
    {"r1_gamma": 1.0},
    {"diffaugment": "color,translation,cutout"},
]


@pytest.mark.parametrize("options", STABILISERS, ids=lambda o: next(iter(o)))
def test_each_stabiliser_trains_deterministically(options):
    model, first = fitted_variables(keras_gans.DCGAN, **options)
    history = model.history.history
    assert all(np.isfinite(values[-1]) for values in history.values())
    _, second = fitted_variables(keras_gans.DCGAN, **options)
    for a, b in zip(first, second):  # seeded noise: the augmentation draws repeat too
        np.testing.assert_array_equal(a, b)
    _, plain = fitted_variables(keras_gans.DCGAN)
    # The option changes training (otherwise this test could not tell it is wired in).
    assert len(plain) != len(first) or any(not np.array_equal(a, b) for a, b in zip(plain, first))
    if "r1_gamma" in options:
        assert history["r1_penalty"][-1] > 0


def test_stabilised_model_saves_and_loads(tmp_path):
    options = dict(loss="hinge", spectral_norm=True, r1_gamma=2.0, diffaugment="translation,cutout")
    model = small_model(keras_gans.WGANGP, **options)
    compile_eager_graph(model)
    small_fit(model, steps=1)
    vectors = [v for v in model.discriminator.non_trainable_variables if "vector_u" in v.path]
    assert vectors and all(any(v is w for w in model.variables) for v in vectors)  # checkpoints hold them
    model.save(str(tmp_path / "model.keras"))
    loaded = keras.models.load_model(str(tmp_path / "model.keras"))
    for key, value in options.items():
        assert loaded.get_config()[key] == value
    layers = lambda m: [type(layer).__name__ for layer in m.discriminator.layers]  # noqa: E731
    assert layers(loaded) == layers(model)  # normalised once, not twice
    for a, b in zip(model.variables, loaded.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("cls", [keras_gans.DCGAN, keras_gans.WGAN, keras_gans.WGANGP], ids=lambda c: c.__name__)
def test_64x64_colour_models_train(cls):
    model = small_model(cls, image_shape=(64, 64, 3))
    compile_eager_graph(model)
    assert model.generator.output_shape == (None, 64, 64, 3)
    assert model.discriminator.output_shape == (None, 1)
    history = small_fit(model, steps=1, batch=2)
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert model.generate(2, seed=0).shape == (2, 64, 64, 3)


# ----- a user's own networks fail early, in one line (issue 18) -------------------------


def test_ragged_batch_at_run_time_says_how_to_fix():
    model = small_model(keras_gans.WGANGP, n_critic=2)
    compile_eager_graph(model)
    images = random_images(7, shape=(16, 16, 1))  # batches of 4, then 3: 3 does not split into 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="n_critic \\* batch_size"):
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1, verbose=0)
    with pytest.raises(keras_gans.errors.UserError, match="got a batch of 3. .*drop_remainder=True"):
        model.fit(images, batch_size=4, epochs=1, verbose=0)  # refused before training starts


def test_ragged_batch_is_caught_under_xla_too():
    # XLA drops in-graph assertions: the check runs in the input pipeline instead.
    model = small_model(keras_gans.WGANGP, n_critic=2)
    model.compile(jit_compile=True)
    images = random_images(7, shape=(16, 16, 1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="n_critic \\* batch_size"):
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1, verbose=0)


def test_discriminator_ending_in_sigmoid_is_refused():
    discriminator = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(),
                                      keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(keras_gans.errors.UserError, match="ends in a sigmoid.*remove the final activation"):
        small_model(keras_gans.DCGAN, discriminator=discriminator)


def test_generator_of_the_wrong_input_size_is_refused():
    generator = keras.Sequential([keras.Input((7,)), keras.layers.Dense(256, activation="tanh"),
                                  keras.layers.Reshape((16, 16, 1))])
    with pytest.raises(keras_gans.errors.UserError, match="inputs of size 7 but latent_dim is 4; pass latent_dim=7"):
        small_model(keras_gans.DCGAN, generator=generator)


def patch_critic():
    """PatchGAN style: one logit per 4x4 patch, [B, 4, 4, 1]."""
    images = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 4, strides=2, padding="same")(images)
    x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(images, keras.layers.Conv2D(1, 4, strides=2, padding="same")(x))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_patch_critic_trains_with_every_model(cls):
    model = small_model(cls, discriminator=patch_critic(), r1_gamma=1.0)
    compile_eager_graph(model)
    history = small_fit(model, steps=1)
    assert all(np.isfinite(values[-1]) for values in history.values())


@pytest.mark.parametrize("cls, loss", [(keras_gans.WGANGP, None), (keras_gans.DCGAN, "hinge")])
def test_label_smoothing_with_a_loss_that_has_no_target_is_refused(cls, loss):
    with pytest.raises(UserError, match=r"label_smoothing applies to the BCE loss only.*--label_smoothing=0"):
        cls(width=8, latent_dim=8, label_smoothing=0.1, loss=loss)
    # A model saved before the refusal (where it was silently ignored) still loads, without it.
    config = cls(width=8, latent_dim=8, loss=loss).get_config()
    config["label_smoothing"] = 0.1
    assert cls.from_config(config).label_smoothing == 0.0


def test_resize_conv_generator_trains_saves_loads_and_exports(tmp_path):
    from keras_gans.latents import latent_vectors
    from keras_gans.serving.export import export_generator

    model = small_model(keras_gans.DCGAN, image_shape=(28, 28, 1), resize_conv_layers=1, ema_decay=0.9, precision="float32")
    compile_eager_graph(model)
    assert isinstance(model.generator.get_layer("to_image"), keras.layers.Conv2D)
    assert not isinstance(model.generator.get_layer("to_image"), keras.layers.Conv2DTranspose)
    history = small_fit(model, steps=2)
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert model.get_config()["resize_conv_layers"] == 1
    assert "resize_conv_layers" not in small_model(keras_gans.DCGAN).get_config()  # old configs unchanged
    model.save(str(tmp_path / "model.keras"))
    loaded = keras.models.load_model(str(tmp_path / "model.keras"))
    assert loaded.resize_conv_layers == 1
    np.testing.assert_array_equal(loaded.generate(3, seed=4), model.generate(3, seed=4))
    path = export_generator(model, str(tmp_path / "export"))
    served = tf.saved_model.load(path).signatures["serving_default"]
    z = latent_vectors(3, model.latent_dim, 4)
    images = next(iter(served(z=z).values())).numpy()
    assert images.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(images, model.sampling_network()(z, training=False).numpy(), atol=1e-6)


def test_resize_conv_layers_refuse_an_mlp_or_your_own_generator():
    with pytest.raises(UserError, match="resize_conv_layers applies to the convolutional generators"):
        small_model(keras_gans.GAN, resize_conv_layers=1)
    generator = small_model(keras_gans.DCGAN).generator
    with pytest.raises(UserError, match="with your own generator"):
        small_model(keras_gans.DCGAN, generator=generator, resize_conv_layers=1)


# ----- lazy R1 (StyleGAN2): the penalty on every r1_interval-th D update, weighted r1_interval ------


def linear_critic(image_shape=(16, 16, 1)):
    images = keras.Input(image_shape)
    return keras.Model(images, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(images)))


def test_lazy_r1_gradients_of_a_linear_critic_are_hand_computed():
    # D(x) = w . x: R1 = ||w||^2 for every example, so the lazy term interval * gamma / 2 * ||w||^2
    # has gradient interval * gamma * w = 4 * 2 * w on a due update and nothing on the others.
    model = small_model(keras_gans.DCGAN, discriminator=linear_critic(), r1_gamma=2.0, r1_interval=4,
                        precision="float32")  # exact arithmetic for the hand-computed values
    compile_eager_graph(model)
    w = model.discriminator.trainable_variables[0]
    w.assign(np.arange(256, dtype=np.float32).reshape(256, 1) / 256.0 - 0.5)
    real = tf.constant(random_images(3, shape=(16, 16, 1)))
    for iteration, factor in ((0, 8.0), (1, 0.0), (3, 0.0), (4, 8.0), (8, 8.0)):
        model.d_optimizer.iterations.assign(iteration)
        (grad,) = model.lazy_r1_gradients(real, None, [w])
        np.testing.assert_allclose(grad.numpy(), factor * w.numpy(), rtol=1e-5, atol=1e-7)
    # Not lazy: no separate gradients (the penalty is part of the D loss, as before).
    eager = small_model(keras_gans.DCGAN, discriminator=linear_critic(), r1_gamma=2.0)
    compile_eager_graph(eager)
    assert eager.lazy_r1_gradients(real, None, eager.discriminator.trainable_variables) is None


def test_lazy_r1_due_update_equals_r1_with_interval_times_gamma():
    # Update 0 is due: gamma 0.5 every 4th update pulls as gamma 2.0 on every update does.
    def discriminator_after_one_update(**options):
        model, _ = fitted_variables(keras_gans.DCGAN, steps=1, **options)
        return model, [v.numpy() for v in model.discriminator.trainable_variables]

    lazy, lazy_d = discriminator_after_one_update(r1_gamma=0.5, r1_interval=4)
    _, eager_d = discriminator_after_one_update(r1_gamma=2.0)
    _, plain_d = discriminator_after_one_update()
    for a, b in zip(lazy_d, eager_d):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(lazy_d, plain_d))  # and the penalty did change it
    assert lazy.history.history["r1_penalty"][-1] > 0


def test_lazy_r1_skipped_updates_train_exactly_as_without_r1():
    # Updates 1, 2, 3 with r1_interval=4: no penalty, bit for bit the run without R1.
    def fitted(**options):
        keras.utils.set_random_seed(5)
        model = small_model(keras_gans.DCGAN, **options)
        compile_eager_graph(model)
        model.d_optimizer.iterations.assign(1)
        model.g_optimizer.iterations.assign(1)
        small_fit(model, steps=3)
        return model

    lazy, plain = fitted(r1_gamma=1.0, r1_interval=4), fitted()
    for a, b in zip(lazy.generator.variables + lazy.discriminator.variables,
                    plain.generator.variables + plain.discriminator.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert lazy.history.history["r1_penalty"] == [0.0]  # nothing computed, nothing reported


def test_lazy_r1_is_saved_and_checked(tmp_path):
    model = small_model(keras_gans.DCGAN, r1_gamma=1.0, r1_interval=16)
    assert model.get_config()["r1_interval"] == 16
    assert "r1_interval" not in small_model(keras_gans.DCGAN, r1_gamma=1.0).get_config()  # old configs unchanged
    compile_eager_graph(model)
    small_fit(model, steps=1)
    model.save(str(tmp_path / "model.keras"))
    assert keras.models.load_model(str(tmp_path / "model.keras")).r1_interval == 16
    for bad in (0, -2, 1.5, "often"):
        with pytest.raises(UserError, match="r1_interval must be a whole number >= 1"):
            small_model(keras_gans.DCGAN, r1_gamma=1.0, r1_interval=bad)
    with pytest.raises(UserError, match=r"R1 is off: set r1_gamma > 0 \(--r1_gamma\) or drop r1_interval"):
        small_model(keras_gans.DCGAN, r1_interval=16)
