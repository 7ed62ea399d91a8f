"""The fast paths compute the same step as the plain one.

For each model, one training step from identical weights, noise and batch
(the noise from exact integer arithmetic: see IntegerHashNoise):
  - XLA (float32), the default where bfloat16 is not native: weights equal
    the plain graph-mode step to 2e-5 absolute;
  - mixed_bfloat16 (the CPU default where the hardware has it): bfloat16
    rounds every activation to 8 bits of mantissa, so the step cannot match
    bit for bit; its weight update must point the same way as the float32
    update (cosine similarity > 0.99) with the same size (within 5%).
SGD keeps the update proportional to the gradient, so a wrong gradient shows.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans import precision
from conftest import random_images

MODELS = [keras_gans.GAN, keras_gans.DCGAN, keras_gans.WGAN, keras_gans.WGANGP]


class IntegerHashNoise:
    """Training noise from exact integer arithmetic, identical in every execution path.

    TensorFlow's stateless generators draw different numbers under XLA than
    in plain graph mode when the seed lives in a variable (seen here), so a
    comparison of the two paths must not depend on them.
    """

    def noise(self, kind, batch_size, shape, draw, counter):
        count = batch_size * int(np.prod(shape))
        salt = (tf.cast(counter, tf.int64) * 7919 + draw * 104729 + 1) % 2147483647
        x = (tf.range(count, dtype=tf.int64) + 1 + salt) % 2147483647
        for _ in range(3):  # a few rounds of the Lehmer generator: exact in int64
            x = (x * 48271) % 2147483647
        uniform = tf.cast(x, tf.float32) / 2147483647.0
        if kind == "normal":  # the sum of 12 uniforms - 6 is close enough to N(0, 1) here
            uniform = tf.reshape(uniform, [-1])
            x2 = tf.stack([(x * (48271 + k)) % 2147483647 for k in range(12)])
            uniform = tf.reduce_sum(tf.cast(x2, tf.float32) / 2147483647.0, axis=0) - 6.0
        return tf.reshape(uniform, [batch_size, *shape])


def one_step(cls, weights=None, jit_compile=False, policy="float32"):
    # Fixed initial weights, whatever tests ran before in this process (their set_random_seed calls moved them):
    # at some draws a float-rounding difference flips a unit across a ReLU kink, and the XLA/plain comparison
    # failed on CI (290 of 25,770 DCGAN weights off by up to 1e-4) for a reason that is not a wrong gradient.
    keras.utils.set_random_seed(12)
    with precision.policy(policy):
        fixed = type(f"Fixed{cls.__name__}", (IntegerHashNoise, cls), {})
        extra = {}
        if cls is keras_gans.GAN:  # its dropout masks come from TensorFlow's generator: switch it off
            from keras_gans.networks import mlp

            extra["discriminator"] = mlp.build_discriminator((28, 28, 1), width=8, dropout=0.0)
        # precision=policy: "auto" inside a float32 policy would still pick bfloat16 on a CPU with native bfloat16.
        model = fixed(image_shape=(28, 28, 1), width=8, latent_dim=8, seed=5,
                      n_critic=2 if cls.default_n_critic > 1 else None, precision=policy, **extra)
        model.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05), jit_compile=jit_compile)
    if weights is not None:
        # All variables, the dropout layers' seed-generator states included.
        for variable, value in zip(model.generator.variables + model.discriminator.variables, weights):
            variable.assign(value)
    start = [v.numpy() for v in model.generator.variables + model.discriminator.variables]
    before = (model.generator.get_weights(), model.discriminator.get_weights())
    images = random_images(16 * model.n_critic, seed=1)
    model.fit(tf.data.Dataset.from_tensors(images), epochs=1, verbose=0)
    after = (model.generator.get_weights(), model.discriminator.get_weights())
    return start, before, after


def flat(weights):
    return np.concatenate([w.ravel() for network in weights for w in network]).astype(np.float64)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_xla_step_equals_plain_step(cls):
    state, _, plain = one_step(cls)
    _, _, fast = one_step(cls, weights=state, jit_compile=True)
    # WGAN's RMSprop divides each update by the root of its squared gradient, which turns float rounding
    # in a near-zero gradient into up to 2.5e-5 of weight (1 of 25,770 weights on CI, stop 26); 2e-5 elsewhere.
    np.testing.assert_allclose(flat(fast), flat(plain), atol=5e-5 if cls.__name__ == "WGAN" else 2e-5, rtol=0)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_bfloat16_step_follows_the_float32_step(cls):
    state, start, plain = one_step(cls)
    _, _, fast = one_step(cls, weights=state, policy="mixed_bfloat16")
    update_32 = flat(plain) - flat(start)
    update_16 = flat(fast) - flat(start)
    cosine = update_32 @ update_16 / (np.linalg.norm(update_32) * np.linalg.norm(update_16))
    assert cosine > 0.99, cosine
    assert np.linalg.norm(update_16) == pytest.approx(np.linalg.norm(update_32), rel=0.05)


def test_auto_precision_and_jit_defaults(monkeypatch):
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: True)
    assert precision.resolve("auto") == "mixed_bfloat16"
    with precision.policy("auto"):
        assert precision.default_jit_compile() is False  # oneDNN bfloat16 beats XLA on a CPU
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: False)
    assert precision.resolve("auto") == "float32"
    with precision.policy("auto"):
        assert precision.default_jit_compile() is True
    assert keras.mixed_precision.global_policy().name == "float32"  # the context restored it
    with pytest.raises(ValueError, match="--precision"):
        precision.resolve("float8")


def test_bfloat16_models_keep_float32_weights_and_outputs():
    with precision.policy("mixed_bfloat16"):
        model = keras_gans.DCGAN(width=8, latent_dim=8)
    assert all(v.dtype == "float32" for v in model.generator.weights + model.discriminator.weights)
    assert model.generate(2, seed=0).dtype == np.float32
    assert model.discriminator(tf.zeros([2, 28, 28, 1])).dtype == tf.float32
