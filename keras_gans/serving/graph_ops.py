"""Graph pieces the serving signatures share: the request-size bound, in-graph range checks, slerp."""

import tensorflow as tf

MAX_IMAGES = 1024


def checked_count(value, name, low):
    """`value` after an in-graph check that low <= value <= MAX_IMAGES.

    The check runs BEFORE anything that depends on the returned value, so a
    huge count fails with this message instead of an out-of-memory.
    """
    return checked_range(value, low, MAX_IMAGES, f"{name} must be between {low} and {MAX_IMAGES}")


def checked_range(value, low, high, message):
    """`value` after an in-graph check that low <= value <= high (every element), failing with `message`."""
    checks = [
        tf.debugging.assert_greater_equal(value, tf.constant(low, value.dtype), message=message),
        tf.debugging.assert_less_equal(value, tf.constant(high, value.dtype), message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(value)


def slerp(start, end, t):
    """Spherical interpolation from `start` to `end` ([D] each) at fractions t ([N]) -> [N, D].

    Gaussian latents concentrate near a sphere; a straight line between two
    of them passes through lower-norm points the generator rarely saw, the
    great circle does not (White, 2016). Falls back to a straight line when
    the two are (anti)parallel, where the circle is undefined.
    """
    unit_start = tf.math.l2_normalize(start)
    unit_end = tf.math.l2_normalize(end)
    omega = tf.acos(tf.clip_by_value(tf.reduce_sum(unit_start * unit_end), -1.0, 1.0))
    t = t[:, None]
    sin_omega = tf.sin(omega)
    linear = (1.0 - t) * start + t * end
    safe_sin = tf.where(sin_omega > 1e-6, sin_omega, 1.0)
    spherical = (tf.sin((1.0 - t) * omega) * start + tf.sin(t * omega) * end) / safe_sin
    return tf.where(sin_omega > 1e-6, spherical, linear)
