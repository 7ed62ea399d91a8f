"""Adversarial losses in generator/discriminator pairs, and the gradient penalty.

Every function takes logits (never probabilities) and returns a PER-EXAMPLE
loss of shape [B]. The models average these with
`tf.nn.compute_average_loss`, which divides by the GLOBAL batch size: under a
tf.distribute strategy the per-replica gradients are summed, so a plain
per-replica mean would make the update N times too large on N replicas.
Outside a strategy it is the ordinary mean.
"""

import tensorflow as tf


def _flat(logits):
    return tf.reshape(logits, [-1])


# --- Non-saturating GAN loss (Goodfellow et al. 2014, Sec. 3) -------------------

def gan_discriminator_loss(real_logits, fake_logits, real_label=1.0):
    """-log D(x) - log(1 - D(G(z))), with D = sigmoid(logits).

    `real_label` < 1 is one-sided label smoothing (Salimans et al. 2016):
    the real target becomes e.g. 0.9 while the fake target stays 0.
    Computed from logits with the numerically stable cross-entropy.
    """
    real_logits, fake_logits = _flat(real_logits), _flat(fake_logits)
    real_loss = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(real_logits), tf.cast(real_label, real_logits.dtype)), logits=real_logits
    )
    fake_loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits), logits=fake_logits)
    return real_loss + fake_loss


def gan_generator_loss(fake_logits):
    """Non-saturating generator loss -log D(G(z)): strong gradients while D still wins."""
    fake_logits = _flat(fake_logits)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(fake_logits), logits=fake_logits)


# --- Wasserstein loss (Arjovsky et al. 2017) ----------------------------------

def wasserstein_discriminator_loss(real_scores, fake_scores):
    """Critic loss -D(x) + D(G(z)); its negated mean estimates the Wasserstein distance."""
    return _flat(fake_scores) - _flat(real_scores)


def wasserstein_generator_loss(fake_scores):
    """Generator loss -D(G(z))."""
    return -_flat(fake_scores)


# --- Gradient penalty (Gulrajani et al. 2017, Algorithm 1) ---------------------

def interpolate(real, fake, alpha):
    """x_hat = alpha * real + (1 - alpha) * fake, with alpha of shape [B] (one per example)."""
    alpha = tf.reshape(tf.cast(alpha, real.dtype), [-1] + [1] * (len(real.shape) - 1))
    return alpha * real + (1.0 - alpha) * tf.cast(fake, real.dtype)


def gradient_penalty(critic, real, fake, alpha, epsilon=1e-12, training=True):
    """Per-example (||grad_x D(x_hat)||_2 - 1)^2 at x_hat = interpolate(real, fake, alpha).

    Args:
        critic: callable images -> [B, 1] scores.
        real, fake: [B, H, W, C] images.
        alpha: [B] interpolation weights, drawn ~ U(0, 1) once per example
            (not per pixel, not from a normal: both are common bugs).
        epsilon: added inside the square root, so a zero gradient gives a
            finite gradient of the norm instead of NaN.

    Returns:
        [B] penalties; the caller multiplies by lambda and averages.
    """
    x_hat = interpolate(real, fake, alpha)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat, training=training)
    grads = tape.gradient(scores, x_hat)
    grads = tf.reshape(tf.cast(grads, tf.float32), [tf.shape(grads)[0], -1])
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + epsilon)
    return tf.square(norms - 1.0)
