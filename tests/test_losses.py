"""Losses and the gradient penalty against values worked out by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_gans import losses

# softplus(x) = log(1 + e^x); BCE(label 1, logit l) = softplus(-l), BCE(label 0, l) = softplus(l).
LOG2 = 0.6931471805599453          # softplus(0)
SOFTPLUS_MINUS_2 = 0.1269280110429726  # log(1 + e^-2) = -log sigmoid(2)
SOFTPLUS_MINUS_1 = 0.3132616875182228  # log(1 + e^-1) = -log(1 - sigmoid(-1))
SOFTPLUS_1 = 1.3132616875182228        # log(1 + e)
SOFTPLUS_2 = 2.1269280110429727        # log(1 + e^2)


def test_hand_constants_are_softplus():
    # The constants above were computed by hand; pin them to the definition once.
    for value, x in [(LOG2, 0), (SOFTPLUS_MINUS_2, -2), (SOFTPLUS_MINUS_1, -1), (SOFTPLUS_1, 1), (SOFTPLUS_2, 2)]:
        assert value == pytest.approx(math.log1p(math.exp(x)), abs=1e-12)


def test_discriminator_loss_hand_values():
    real = tf.constant([[0.0], [2.0]])
    fake = tf.constant([[0.0], [-1.0]])
    per_example = losses.gan_discriminator_loss(real, fake).numpy()
    # Example 1: -log(0.5) - log(0.5) = 2 log 2.  Example 2: -log sigmoid(2) - log(1 - sigmoid(-1)).
    np.testing.assert_allclose(per_example, [2 * LOG2, SOFTPLUS_MINUS_2 + SOFTPLUS_MINUS_1], rtol=1e-6)


def test_one_sided_label_smoothing_hand_values():
    real = tf.constant([[0.0], [2.0]])
    fake = tf.constant([[-50.0], [-50.0]])  # fake term ~ 0, isolates the real term
    per_example = losses.gan_discriminator_loss(real, fake, real_label=0.9).numpy()
    # -(0.9 log sigmoid(l) + 0.1 log(1 - sigmoid(l))): l=0 -> log 2; l=2 -> 0.9*sp(-2) + 0.1*sp(2).
    expected = [LOG2, 0.9 * SOFTPLUS_MINUS_2 + 0.1 * SOFTPLUS_2]
    np.testing.assert_allclose(per_example, expected, rtol=1e-5)
    # The fake target stays 0 (one-sided): smoothing must not change the fake term.
    fake_only = losses.gan_discriminator_loss(tf.constant([[50.0]]), tf.constant([[1.0]]), real_label=0.9).numpy()
    np.testing.assert_allclose(fake_only, [0.1 * 50.0 + SOFTPLUS_1 + math.log1p(math.exp(-50.0)) * 0.9], rtol=1e-5)


def test_non_saturating_generator_loss_hand_values():
    per_example = losses.gan_generator_loss(tf.constant([[0.0], [-1.0], [2.0]])).numpy()
    np.testing.assert_allclose(per_example, [LOG2, SOFTPLUS_1, SOFTPLUS_MINUS_2], rtol=1e-6)


def test_losses_are_stable_for_huge_logits():
    per_example = losses.gan_discriminator_loss(tf.constant([[1e4]]), tf.constant([[-1e4]])).numpy()
    assert np.all(np.isfinite(per_example)) and per_example[0] == pytest.approx(0.0, abs=1e-6)
    assert losses.gan_generator_loss(tf.constant([[-1e4]])).numpy()[0] == pytest.approx(1e4, rel=1e-6)


def test_wasserstein_losses():
    real = tf.constant([[3.0], [1.0]])
    fake = tf.constant([[0.5], [-2.0]])
    np.testing.assert_allclose(losses.wasserstein_discriminator_loss(real, fake).numpy(), [-2.5, -3.0])
    np.testing.assert_allclose(losses.wasserstein_generator_loss(fake).numpy(), [-0.5, 2.0])


def test_interpolate_uses_one_alpha_per_example():
    real = tf.ones([2, 2, 2, 1])
    fake = -tf.ones([2, 2, 2, 1])
    mixed = losses.interpolate(real, fake, tf.constant([0.25, 1.0])).numpy()
    np.testing.assert_allclose(mixed[0], np.full((2, 2, 1), -0.5))  # 0.25*1 + 0.75*(-1)
    np.testing.assert_allclose(mixed[1], np.full((2, 2, 1), 1.0))


class LinearCritic:
    """D(x) = w . x: its gradient is w everywhere, so the penalty is (||w|| - 1)^2 exactly."""

    def __init__(self, w):
        self.w = tf.constant(w, tf.float32)

    def __call__(self, images, training=True):
        flat = tf.reshape(images, [tf.shape(images)[0], -1])
        return tf.reduce_sum(flat * tf.reshape(self.w, [1, -1]), axis=1, keepdims=True)


def test_gradient_penalty_of_linear_critic_is_closed_form():
    w = np.zeros((2, 2, 1), np.float32)
    w[0, 0, 0], w[1, 1, 0] = 2.0, 2.0 * math.sqrt(2.0)  # ||w|| = sqrt(4 + 8) = sqrt(12)
    real = tf.random.normal([3, 2, 2, 1], seed=1)
    fake = tf.random.normal([3, 2, 2, 1], seed=2)
    penalty = losses.gradient_penalty(LinearCritic(w), real, fake, tf.constant([0.1, 0.5, 0.9])).numpy()
    np.testing.assert_allclose(penalty, [(math.sqrt(12.0) - 1.0) ** 2] * 3, rtol=1e-5)


def test_gradient_penalty_of_unit_norm_critic_is_zero():
    w = np.zeros((2, 2, 1), np.float32)
    w[0, 1, 0] = 0.6
    w[1, 0, 0] = 0.8
    real, fake = tf.ones([2, 2, 2, 1]), tf.zeros([2, 2, 2, 1])
    penalty = losses.gradient_penalty(LinearCritic(w), real, fake, tf.constant([0.3, 0.7])).numpy()
    np.testing.assert_allclose(penalty, [0.0, 0.0], atol=1e-6)


def test_gradient_penalty_has_finite_gradient_when_input_gradient_is_zero():
    # A constant critic has zero input gradient: without the epsilon inside the
    # square root, d||g||/dg = g / ||g|| is 0/0 = NaN.
    bias = tf.Variable(1.0)
    weight = tf.Variable(0.0)

    def critic(images, training=True):
        return weight * tf.reduce_sum(images, axis=[1, 2, 3])[:, None] * 0.0 + bias

    real, fake = tf.ones([2, 2, 2, 1]), tf.zeros([2, 2, 2, 1])
    with tf.GradientTape() as tape:
        penalty = tf.reduce_mean(losses.gradient_penalty(critic, real, fake, tf.constant([0.5, 0.5])))
    grads = tape.gradient(penalty, [weight])
    assert penalty.numpy() == pytest.approx(1.0, abs=1e-4)  # (0 - 1)^2
    assert all(g is None or np.all(np.isfinite(g.numpy())) for g in grads)


# ----- hinge loss ------------------------------------------------------------------


def test_hinge_discriminator_loss_hand_values():
    real = tf.constant([[2.0], [0.5], [-1.0]])
    fake = tf.constant([[-3.0], [0.0], [0.5]])
    # relu(1 - real) + relu(1 + fake): [0 + 0, 0.5 + 1, 2 + 1.5].
    np.testing.assert_allclose(losses.hinge_discriminator_loss(real, fake).numpy(), [0.0, 1.5, 3.5])
    np.testing.assert_allclose(losses.discriminator_loss("hinge", real, fake).numpy(), [0.0, 1.5, 3.5])


def test_hinge_generator_loss_is_minus_the_score():
    fake = tf.constant([[-3.0], [0.0], [0.5]])
    np.testing.assert_allclose(losses.hinge_generator_loss(fake).numpy(), [3.0, 0.0, -0.5])
    np.testing.assert_allclose(losses.generator_loss("hinge", fake).numpy(), [3.0, 0.0, -0.5])


def test_unknown_loss_kind_is_refused():
    with pytest.raises(ValueError, match="unknown loss kind"):
        losses.discriminator_loss("lsgan", tf.zeros([1, 1]), tf.zeros([1, 1]))


# ----- patch critics ([B, H, W, 1]) -----------------------------------------------


def test_patch_scores_are_averaged_per_example():
    # Two examples, 2x2 patches each: the per-example loss is the mean over the patches.
    real = tf.reshape(tf.constant([2.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0, -1.0]), [2, 2, 2, 1])
    fake = tf.zeros([2, 2, 2, 1])
    # Hinge real terms per patch: [0, 1, 1, 1] -> 0.75 and [2, 2, 2, 2] -> 2; fake terms all 1.
    np.testing.assert_allclose(losses.hinge_discriminator_loss(real, fake).numpy(), [1.75, 3.0])
    # Wasserstein: mean(fake) - mean(real) = [0 - 0.5, 0 + 1].
    np.testing.assert_allclose(losses.wasserstein_discriminator_loss(real, fake).numpy(), [-0.5, 1.0])
    # BCE: patches of one example averaged: real logit 0 -> log 2 on three patches, 2 -> sp(-2) on one.
    bce = losses.gan_discriminator_loss(real, fake).numpy()
    np.testing.assert_allclose(bce[0], (3 * LOG2 + SOFTPLUS_MINUS_2) / 4 + LOG2, rtol=1e-6)
    assert losses.gan_generator_loss(fake).shape == (2,)


def test_gradient_penalty_adds_to_a_patch_loss():
    # A 2x2-patch critic: the per-example penalty has shape [B], like the patch loss.
    critic = lambda x, training=True: x * 3.0  # noqa: E731  each pixel is a patch scored 3 * pixel
    real, fake = tf.ones([3, 2, 2, 1]), tf.zeros([3, 2, 2, 1])
    penalty = losses.gradient_penalty(critic, real, fake, tf.fill([3], 0.5))
    # The gradient of the summed scores is 3 per pixel: norm sqrt(4 * 9) = 6, penalty (6 - 1)^2 = 25.
    np.testing.assert_allclose(penalty.numpy(), [25.0] * 3, rtol=1e-5)
    total = losses.wasserstein_discriminator_loss(critic(real), critic(fake)) + penalty
    assert total.shape == (3,)


# ----- R1 (Mescheder et al. 2018) ----------------------------------------------------


def test_r1_of_linear_critic_is_squared_weight_norm():
    # D(x) = w . x has gradient w everywhere, so ||grad||^2 = ||w||^2 = 1 + 4 + 4 + 0 = 9.
    w = tf.constant([1.0, -2.0, 2.0, 0.0])
    critic = lambda x, training=True: tf.reduce_sum(tf.reshape(x, [-1, 4]) * w, axis=1, keepdims=True)  # noqa: E731
    real = tf.random.stateless_normal([5, 2, 2, 1], seed=[1, 2])
    np.testing.assert_allclose(losses.r1_penalty(critic, real).numpy(), [9.0] * 5, rtol=1e-6)
    # The model adds gamma / 2 times it: gamma = 10 gives 45 per example.


def test_r1_is_per_example():
    # D(x) = sum(x^2): gradient 2x, so ||grad||^2 = 4 * sum(x^2) per example.
    critic = lambda x, training=True: tf.reduce_sum(tf.reshape(x, [-1, 2]) ** 2, axis=1, keepdims=True)  # noqa: E731
    real = tf.constant([[[[1.0], [0.0]]], [[[1.0], [2.0]]]])  # [2, 1, 2, 1]
    np.testing.assert_allclose(losses.r1_penalty(critic, real).numpy(), [4.0, 20.0], rtol=1e-6)


def test_global_mean_is_the_plain_mean_outside_a_strategy():
    assert float(losses.global_mean(tf.constant([1.0, 2.0, 6.0]))) == pytest.approx(3.0)
