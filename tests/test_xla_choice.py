"""jit_compile "auto": measured at the first fit, cached, and invisible in the training result."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans import precision
from keras_gans.models import xla_choice
from conftest import random_images


@pytest.fixture
def measured(monkeypatch, tmp_path):
    """Tiny models measured too (not left to the rule), with the cache in `tmp_path`."""
    monkeypatch.setattr(xla_choice, "MIN_PARAMETERS", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def force_result(monkeypatch, use_xla):
    """Runs the real measurement (its steps, its restore) but makes `use_xla` the faster."""
    real = xla_choice.measure
    calls = []

    def measure(model, batch):
        ms_plain, ms_xla, functions = real(model, batch)
        calls.append((ms_plain, ms_xla))
        return (2.0, 1.0, functions) if use_xla else (1.0, 2.0, functions)

    monkeypatch.setattr(xla_choice, "measure", measure)
    return calls


def forbid_measuring(monkeypatch):
    def measure(model, batch):
        raise AssertionError("measured although it should not have")

    monkeypatch.setattr(xla_choice, "measure", measure)


def dataset(n_critic, steps=3):
    images = random_images(16 * n_critic * steps, seed=2)
    return tf.data.Dataset.from_tensor_slices(images).batch(16 * n_critic, drop_remainder=True)


def trained_state(cls, jit_compile, fit_twice=False, **kwargs):
    keras.utils.set_random_seed(0)  # the same initial weights every time
    model = cls(image_shape=(28, 28, 1), width=8, latent_dim=8, seed=4, **kwargs)
    model.compile(jit_compile=jit_compile)
    model.fit(dataset(model.n_critic), epochs=1, verbose=0)
    if fit_twice:  # a second fit (e.g. resume) does not measure again
        model.fit(dataset(model.n_critic), epochs=1, verbose=0)
    variables = (model.variables + model.metrics_variables + model.d_optimizer.variables
                 + model.g_optimizer.variables)
    return model, [v.numpy() for v in variables]


@pytest.mark.parametrize("cls,use_xla", [(keras_gans.WGANGP, False), (keras_gans.WGANGP, True), (keras_gans.GAN, False)],
                         ids=["wgan_gp-plain", "wgan_gp-xla", "gan-plain"])
def test_auto_fit_trains_exactly_as_the_chosen_setting_forced(monkeypatch, measured, cls, use_xla):
    # WGAN-GP: two critic updates per step and the penalty's noise; GAN: dropout's seed states.
    extra = {"n_critic": 2} if cls is keras_gans.WGANGP else {"ema_decay": 0.9}
    calls = force_result(monkeypatch, use_xla)
    auto, auto_state = trained_state(cls, "auto", fit_twice=True, **extra)
    assert len(calls) == 1 and auto.jit_compile is use_xla
    forced, forced_state = trained_state(cls, use_xla, fit_twice=True, **extra)
    assert len(auto_state) == len(forced_state)
    for a, b in zip(auto_state, forced_state):
        np.testing.assert_array_equal(a, b)


def test_choice_is_logged_cached_and_reused(monkeypatch, measured, capfd):
    force_result(monkeypatch, False)
    model, _ = trained_state(keras_gans.DCGAN, None)
    first = capfd.readouterr().err
    assert "keras_gans: XLA off for this model (1.0 ms/step vs 2.0 ms with XLA; measured)" in first
    assert (measured / "keras_gans" / "xla_choice.json").exists()
    forbid_measuring(monkeypatch)
    again, _ = trained_state(keras_gans.DCGAN, None)
    assert again.jit_compile is False
    assert "measured earlier, cached in" in capfd.readouterr().err
    # Another network is another signature: it is measured.
    with pytest.raises(AssertionError, match="measured although"):
        trained_state(keras_gans.DCGAN, None, loss="hinge")


def test_forced_settings_are_never_measured(monkeypatch, measured):
    forbid_measuring(monkeypatch)
    for use_xla in (True, False):
        model, _ = trained_state(keras_gans.DCGAN, use_xla)
        assert model.jit_compile is use_xla


def test_small_models_and_unknown_batch_shapes_keep_the_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    forbid_measuring(monkeypatch)
    model, _ = trained_state(keras_gans.DCGAN, "auto")  # width 8: under MIN_PARAMETERS
    assert model.jit_compile is precision.default_jit_compile(model.precision)
    monkeypatch.setattr(xla_choice, "MIN_PARAMETERS", 0)
    model = keras_gans.DCGAN(width=8, latent_dim=8)
    model.compile()
    # Batched without drop_remainder: the batch size is a run-time fact.
    model.fit(tf.data.Dataset.from_tensor_slices(random_images(40)).batch(16), epochs=1, verbose=0)
    assert model.jit_compile is precision.default_jit_compile(model.precision)


def test_example_batch_has_the_data_shapes_without_reading_the_data():
    images = random_images(40)
    batched = tf.data.Dataset.from_tensor_slices((images, np.zeros(40, "int32"))).batch(8, drop_remainder=True)
    example = xla_choice.example_batch(batched)
    assert [tuple(t.shape) for t in example] == [(8, 28, 28, 1), (8,)]
    assert [t.dtype for t in example] == [tf.float32, tf.int32]
    assert tuple(xla_choice.example_batch(images, batch_size=16).shape) == (16, 28, 28, 1)
    assert xla_choice.example_batch(iter([images])) is None


def test_auto_is_kept_in_the_compile_config(monkeypatch):
    model = keras_gans.DCGAN(width=8, latent_dim=8)
    model.compile()
    assert model.get_compile_config()["jit_compile"] == "auto"
    model.compile(jit_compile=False)
    assert model.get_compile_config()["jit_compile"] is False


def test_xla_that_cannot_compile_is_not_chosen(monkeypatch, measured, capfd):
    real_make = keras.Model.make_train_function

    def make_train_function(self, force=False):
        real_make(self, force)
        if self.jit_compile:
            def fails(iterator):
                raise tf.errors.InvalidArgumentError(None, None, "XLA cannot compile this op")

            self.train_function = fails

    monkeypatch.setattr(keras.Model, "make_train_function", make_train_function)
    model, _ = trained_state(keras_gans.DCGAN, "auto")
    assert model.jit_compile is False
    assert "vs XLA failed to compile; measured)" in capfd.readouterr().err


def test_a_resumed_run_keeps_the_xla_choice_its_checkpoint_was_trained_with(monkeypatch, tmp_path, capfd):
    # The two paths draw different noise: a resume that chose again (another
    # machine, an emptied cache) and took the other one would not be exact.
    from keras_gans.config import TrainConfig
    from keras_gans.training.checkpoint import CheckpointManager, read_checkpoint
    from keras_gans.training.run import run

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = dict(model="dcgan", width=8, latent_dim=8, batch_size=8, max_images=32, steps_per_epoch=2,
                    export=False, verbose=0, grid_images=4, tensorboard=False, output_dir=str(tmp_path / "run"))
    first = run(TrainConfig(epochs=1, **settings))  # a tiny model: the rule decides, no measurement
    chosen = first.model.jit_compile
    (newest,) = CheckpointManager(str(tmp_path / "run" / "checkpoints")).checkpoints()[-1:]
    assert read_checkpoint(newest)[0]["jit_compile"] is chosen

    monkeypatch.setattr(precision, "default_jit_compile", lambda policy: not chosen)  # what choosing again gives now
    capfd.readouterr()
    resumed = run(TrainConfig(epochs=2, **settings))
    assert resumed.model.jit_compile is chosen
    assert f"XLA {'on' if chosen else 'off'} for this model, as in the checkpoint it resumes" in capfd.readouterr().out
