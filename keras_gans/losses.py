"""Adversarial losses in generator/discriminator pairs, and the critic penalties.

Every function takes logits (never probabilities) and returns a PER-EXAMPLE
loss of shape [B]. A critic may score each image once ([B, 1]) or once per
patch ([B, H, W, 1], PatchGAN): patch losses are averaged per example, so
every term of a model's loss has shape [B] and they add up. The models
average the per-example values with `global_mean`, which divides by the
GLOBAL batch size: under a tf.distribute strategy the per-replica gradients
are summed, so a plain per-replica mean would make the update N times too
large on N replicas. Outside a strategy it is the ordinary mean.

`LOSS_KINDS` names the pairs a model can train with (its `loss_kind`).
"""

import tensorflow as tf

LOSS_KINDS = ("bce", "wasserstein", "hinge")


def global_mean(per_example):
    """Mean over the GLOBAL batch: sum / (per-replica batch * replicas).

    Replica gradients are summed by the optimiser under tf.distribute, so a
    per-replica mean would scale updates by the replica count. Outside a
    strategy this is the plain mean. (Same as tf.nn.compute_average_loss,
    without its assertions, which XLA warns about at every trace.)
    """
    per_example = tf.cast(per_example, tf.float32)
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    return tf.reduce_sum(per_example) / tf.cast(tf.size(per_example) * replicas, tf.float32)


def per_example(values):
    """[B, ...] per-score values -> [B]: the mean over each example's scores (patches)."""
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _flat(logits):
    """[B, ...] scores as [B, P] (P = 1 for one score per image)."""
    return tf.reshape(logits, [tf.shape(logits)[0], -1])


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
    return per_example(real_loss) + per_example(fake_loss)


def gan_generator_loss(fake_logits):
    """Non-saturating generator loss -log D(G(z)): strong gradients while D still wins."""
    fake_logits = _flat(fake_logits)
    return per_example(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(fake_logits), logits=fake_logits))


# --- Wasserstein loss (Arjovsky et al. 2017) ----------------------------------

def wasserstein_discriminator_loss(real_scores, fake_scores):
    """Critic loss -D(x) + D(G(z)); its negated mean estimates the Wasserstein distance."""
    return per_example(fake_scores) - per_example(real_scores)


def wasserstein_generator_loss(fake_scores):
    """Generator loss -D(G(z))."""
    return -per_example(fake_scores)


# --- Hinge loss (Lim & Ye 2017; Miyato et al. 2018, with spectral norm) -------

def hinge_discriminator_loss(real_scores, fake_scores):
    """relu(1 - D(x)) + relu(1 + D(G(z))): D stops pushing a score once it is past the margin."""
    real_scores, fake_scores = _flat(real_scores), _flat(fake_scores)
    return per_example(tf.nn.relu(1.0 - real_scores)) + per_example(tf.nn.relu(1.0 + fake_scores))


def hinge_generator_loss(fake_scores):
    """Generator loss -D(G(z)), as for the Wasserstein loss."""
    return -per_example(fake_scores)


def discriminator_loss(kind, real_logits, fake_logits, real_label=1.0):
    """The discriminator half of the `kind` pair (`real_label` only matters for "bce")."""
    if kind == "bce":
        return gan_discriminator_loss(real_logits, fake_logits, real_label=real_label)
    if kind == "wasserstein":
        return wasserstein_discriminator_loss(real_logits, fake_logits)
    if kind == "hinge":
        return hinge_discriminator_loss(real_logits, fake_logits)
    raise ValueError(f"unknown loss kind {kind!r}; expected one of {LOSS_KINDS}")


def generator_loss(kind, fake_logits):
    """The generator half of the `kind` pair."""
    if kind == "bce":
        return gan_generator_loss(fake_logits)
    if kind in ("wasserstein", "hinge"):
        return wasserstein_generator_loss(fake_logits)
    raise ValueError(f"unknown loss kind {kind!r}; expected one of {LOSS_KINDS}")


# --- Gradient penalty (Gulrajani et al. 2017, Algorithm 1) ---------------------

def interpolate(real, fake, alpha):
    """x_hat = alpha * real + (1 - alpha) * fake, with alpha of shape [B] (one per example)."""
    alpha = tf.reshape(tf.cast(alpha, real.dtype), [-1] + [1] * (len(real.shape) - 1))
    return alpha * real + (1.0 - alpha) * tf.cast(fake, real.dtype)


def gradient_penalty(critic, real, fake, alpha, epsilon=1e-12, training=True):
    """Per-example (||grad_x D(x_hat)||_2 - 1)^2 at x_hat = interpolate(real, fake, alpha).

    Args:
        critic: callable images -> [B, 1] (or [B, H, W, 1] patch) scores;
            the gradient is that of each example's summed scores.
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


# --- R1 penalty (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?") ---

def r1_penalty(critic, real, training=True):
    """Per-example ||grad_x D(x)||^2 on REAL images; the caller multiplies by gamma / 2.

    It penalises the critic's slope on the data, which keeps it from
    overshooting around the equilibrium; no interpolation and no target norm
    of 1, unlike the gradient penalty.
    """
    real = tf.convert_to_tensor(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        scores = critic(real, training=training)
    grads = tape.gradient(scores, real)
    grads = tf.reshape(tf.cast(grads, tf.float32), [tf.shape(grads)[0], -1])
    return tf.reduce_sum(tf.square(grads), axis=1)
