"""DiffAugment's ops on tiny tensors with fixed randomness, worked out by hand."""

import numpy as np
import pytest
import tensorflow as tf

from keras_gans import augment
from keras_gans.errors import UserError


def ramp(batch=1, side=4, channels=1):
    values = np.arange(batch * side * side * channels, dtype="float32")
    return tf.constant(values.reshape(batch, side, side, channels))


def test_brightness_adds_u_minus_half():
    x = tf.zeros([2, 2, 2, 1])
    # u = 0.75 -> +0.25; saturation u = 0.5 (x1) and contrast u = 0.5 (x1) leave it alone.
    out = augment.color(x, tf.constant([0.75, 0.0]), tf.constant([0.5, 0.5]), tf.constant([0.5, 0.5]))
    np.testing.assert_allclose(out.numpy()[0], 0.25)
    np.testing.assert_allclose(out.numpy()[1], -0.5)


def test_saturation_scales_around_the_channel_mean():
    x = tf.constant([[[[0.0, 0.5, 1.0]]]])  # one RGB pixel, channel mean 0.5
    # brightness u = 0.5 (+0), saturation u = 0.25 (x0.5), contrast u = 0.5 (x1).
    out = augment.color(x, tf.constant([0.5]), tf.constant([0.25]), tf.constant([0.5]))
    np.testing.assert_allclose(out.numpy().ravel(), [0.25, 0.5, 0.75], atol=1e-7)


def test_contrast_scales_around_the_image_mean():
    x = tf.constant([[[[0.0]], [[1.0]]]])  # a 2x1 grey image, mean 0.5
    # contrast u = 1.0 would be x1.5; take u = 0.0: x0.5 -> [0.25, 0.75].
    out = augment.color(x, tf.constant([0.5]), tf.constant([0.5]), tf.constant([0.0]))
    np.testing.assert_allclose(out.numpy().ravel(), [0.25, 0.75], atol=1e-7)


def test_shift_moves_by_known_pixels_with_zero_fill():
    x = ramp()  # rows [0 1 2 3], [4 5 6 7], [8 9 10 11], [12 13 14 15]
    out = augment.shift(x, tf.constant([1]), tf.constant([-1])).numpy()[0, :, :, 0]
    expected = [[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0]]
    np.testing.assert_array_equal(out, expected)


def test_translation_draws_shifts_in_plus_minus_an_eighth():
    x = ramp(side=8)  # s = round(8 / 8) = 1: u in [0, 1/3) -> -1, [1/3, 2/3) -> 0, [2/3, 1) -> +1
    out = augment.translation(x, tf.constant([0.9]), tf.constant([0.5])).numpy()
    np.testing.assert_array_equal(out, augment.shift(x, tf.constant([1]), tf.constant([0])).numpy())
    out = augment.translation(x, tf.constant([0.0]), tf.constant([0.0])).numpy()
    np.testing.assert_array_equal(out, augment.shift(x, tf.constant([-1]), tf.constant([-1])).numpy())


def test_cutout_zeroes_a_known_square():
    x = tf.ones([1, 4, 4, 1])
    # Side 4: square of 2; centre = floor(u * (4 + 1)); u = 0.5 -> centre 2 -> rows/cols 1..2.
    out = augment.cutout(x, tf.constant([0.5]), tf.constant([0.0])).numpy()[0, :, :, 0]
    # u_x = 0 -> centre 0 -> columns -1..0, clipped to column 0.
    expected = np.ones((4, 4))
    expected[1:3, 0:1] = 0
    np.testing.assert_array_equal(out, expected)


def test_policy_order_and_identity():
    x = ramp(batch=2)
    u = tf.fill([2, augment.NUM_UNIFORMS], 0.5)
    np.testing.assert_array_equal(augment.diff_augment(x, "", u).numpy(), x.numpy())
    # translation with u = 0.5 is a zero shift; cutout with u = 0.5 cuts rows/cols 1..2.
    out = augment.diff_augment(x, "translation,cutout", u).numpy()
    expected = x.numpy().copy()
    expected[:, 1:3, 1:3] = 0
    np.testing.assert_array_equal(out, expected)


def test_gradients_flow_through_every_op():
    x = tf.Variable(tf.random.stateless_uniform([2, 8, 8, 3], seed=[0, 1]))
    u = tf.random.stateless_uniform([2, augment.NUM_UNIFORMS], seed=[2, 3])
    with tf.GradientTape() as tape:
        y = augment.diff_augment(x, "color,translation,cutout", u)
        loss = tf.reduce_sum(y)
    grad = tape.gradient(loss, x)
    assert grad is not None and np.isfinite(grad.numpy()).all()
    assert np.abs(grad.numpy()).sum() > 0
    # Without colour (whose image mean couples every pixel), cut-out and
    # shifted-out pixels get exactly zero gradient and the others exactly 1.
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(augment.diff_augment(x, "translation,cutout", u))
    grad = tape.gradient(loss, x).numpy()
    assert set(np.unique(grad)) == {0.0, 1.0}


def test_unknown_op_is_a_one_line_user_error():
    with pytest.raises(UserError, match="unknown op.*colour.*color, translation, cutout"):
        augment.parse_policy("colour,cutout")
    assert augment.parse_policy(" color , cutout ") == ("color", "cutout")
