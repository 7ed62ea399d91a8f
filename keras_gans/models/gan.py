"""The GAN training algorithm as a `keras.Model`; the other models override one hook each.

`GAN.train_step` is Algorithm 1 of Goodfellow et al. (2014) with the
non-saturating generator loss: `n_critic` discriminator updates, then one
generator update. Subclasses change only what differs:

  hook                       GAN / DCGAN          WGAN                  WGAN-GP
  build_networks()           MLP / DCGAN          DCGAN, no sigmoid     DCGAN, no sigmoid, no BN
  default_optimizers()       Adam                 RMSprop               Adam(0.0, 0.9)
  discriminator_loss()       BCE                  Wasserstein           Wasserstein
  discriminator_penalty()    none                 none                  lambda * GP
  (weight clipping)          none                 ClipConstraint on     none
                                                  every critic variable

Randomness: training noise (latents, instance noise, WGAN-GP's alpha) is
stateless, keyed by the model's seed variable (`noise_seed.state`, saved and
restored with the weights), by which draw it is, and by the optimiser's step
counter (`noise()`). Under tf.distribute each replica takes its own slice of
one global batch of noise (`keras_gans.distribute.replica_noise`), so replicas
get different noise and results do not depend on the replica count.
`generate(n, seed)` uses stateless sampling so a seed always means the same
latents, here and in the exported generator.

Generator averaging (`ema_decay`, off by default as in the article): after
every generator update, a second copy of the generator, `ema_generator`,
moves towards the trained one (Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"). Its samples are smoother and
better than the raw generator's, whose weights keep circling around the
equilibrium. When enabled, `generate`, the sample grids, the quality metrics
and the export all use the averaged copy (`sampling_generator`).
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gans import distribute, losses, precision
from keras_gans.networks import mlp

# Independent random draws within one train step (see `GAN.noise`).
DRAW_D_LATENT, DRAW_D_NOISE_REAL, DRAW_D_NOISE_FAKE, DRAW_G_LATENT, DRAW_G_NOISE, DRAW_GP_ALPHA = range(6)


def latent_vectors(num, latent_dim, seed):
    """The latents `generate(num, seed)` uses: stateless N(0, 1), shape [num, latent_dim].

    The exported generator's `generate` signature calls this same function, so
    a seed names the same images in Python and in TF Serving.
    """
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    # Philox named explicitly, so the generator does not depend on the device's
    # "auto_select": a seed must name the same images here and in the export.
    return tf.random.stateless_normal([num, latent_dim], seed=seed, dtype=tf.float32, alg="philox")


def _average(per_example):
    """Mean over the GLOBAL batch: sum / (per-replica batch * replicas).

    Replica gradients are summed by the optimiser under tf.distribute, so a
    per-replica mean would scale updates by the replica count. Outside a
    strategy this is the plain mean. (Same as tf.nn.compute_average_loss,
    without its assertions, which XLA warns about at every trace.)
    """
    per_example = tf.cast(per_example, tf.float32)
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    return tf.reduce_sum(per_example) / tf.cast(tf.size(per_example) * replicas, tf.float32)


@keras.saving.register_keras_serializable(package="keras_gans")
class GAN(keras.Model):
    """The fully connected GAN of the reference article (MLP G and D, BCE loss).

    Args:
        image_shape: (height, width, channels) of the training images.
        latent_dim: size of the latent vector z ~ N(0, I).
        width: network width (MLP: first hidden layer; DCGAN: first conv filters).
        generator, discriminator: optional custom networks honouring the
            contract in `keras_gans.networks` (they replace the built-in ones).
        n_critic: discriminator updates per generator update. Each uses its
            OWN real batch, as the article's scripts do (they step D on every
            loader batch and G on every n-th): a train step therefore consumes
            a batch of `n_critic * batch_size` images and splits it.
        instance_noise: std of Gaussian noise added to the discriminator's
            inputs, real AND fake (Sønderby et al. 2016; noising only the real
            images, as some scripts do, lets D tell them apart by the noise).
        label_smoothing: one-sided label smoothing: the real target becomes
            1 - label_smoothing (0.1 gives the article's 0.9).
        ema_decay: keep an exponential moving average of the generator's
            weights (BatchNorm statistics included) in `ema_generator`, and
            sample from it. After the t-th generator update every averaged
            variable becomes `d * average + (1 - d) * raw` with
            `d = min(ema_decay, (1 + t) / (10 + t))`: the warm-up term lets the
            average leave the random initialisation quickly (as
            tf.train.ExponentialMovingAverage's num_updates). 0 or None: off.
        seed: seed of the training noise; None for a random one.

    Example:
        model = keras_gans.GAN(image_shape=(28, 28, 1))
        model.compile()
        model.fit(keras_gans.data.load("sample", batch_size=128), epochs=5)
        images = model.generate(16, seed=0)
    """

    default_width = 256
    default_instance_noise = 0.05
    default_n_critic = 1
    default_batch_size = 128

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=100,
        width=None,
        generator=None,
        discriminator=None,
        n_critic=None,
        instance_noise=None,
        label_smoothing=0.0,
        ema_decay=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.latent_dim = int(latent_dim)
        self.width = int(width if width is not None else self.default_width)
        self.n_critic = int(n_critic if n_critic is not None else self.default_n_critic)
        self.instance_noise = float(instance_noise if instance_noise is not None else self.default_instance_noise)
        self.label_smoothing = float(label_smoothing)
        self.seed = seed
        _check_positive(latent_dim=self.latent_dim, width=self.width, n_critic=self.n_critic)
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if self.instance_noise < 0:
            raise ValueError(f"instance_noise must be >= 0, got {instance_noise}")
        self.ema_decay = float(ema_decay or 0.0)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0 turns averaging off), got {ema_decay}")

        if generator is None or discriminator is None:
            built_g, built_d = self.build_networks()
            generator = generator or built_g
            discriminator = discriminator or built_d
        self.generator = generator
        self.discriminator = discriminator
        self.ema_generator = _averaged_copy(generator) if self.ema_decay else None
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")
        self._create_trackers()
        self.d_optimizer = None
        self.g_optimizer = None
        self.built = True

    # ----- hooks for subclasses -------------------------------------------------

    def build_networks(self):
        return (
            mlp.build_generator(self.latent_dim, self.image_shape, self.width),
            mlp.build_discriminator(self.image_shape, self.width),
        )

    def default_optimizers(self):
        # PyTorch's Adam epsilon, so results match the article's scripts.
        return (
            keras.optimizers.Adam(1e-4, epsilon=1e-8),
            keras.optimizers.Adam(1e-4, epsilon=1e-8),
        )

    def discriminator_loss(self, real_logits, fake_logits):
        return losses.gan_discriminator_loss(real_logits, fake_logits, real_label=1.0 - self.label_smoothing)

    def generator_loss(self, fake_logits):
        return losses.gan_generator_loss(fake_logits)

    def discriminator_penalty(self, real, fake):
        """Per-example regulariser added to the discriminator loss, or None."""
        return None

    def discriminator_output(self, logits):
        """What `d_real` / `d_fake` report: D's probability for BCE models."""
        return tf.sigmoid(logits)

    def _create_trackers(self):
        # Gradient norms (before any clipping) are the first sign of a diverging
        # run; g_diversity (per-pixel std across G's training batch, averaged)
        # falls to zero when the generator collapses (keras_gans.health).
        names = ["d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "g_diversity"]
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    # ----- Keras plumbing -------------------------------------------------------

    @property
    def metrics(self):
        # Listed here so Keras resets them at each epoch and logs them in fit.
        return list(self.trackers.values())

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Sets the two optimisers (the article's when omitted); other kwargs go to Keras.

        `jit_compile` defaults to the fastest measured path: XLA (it fuses the
        small convolutions of these networks, faster even on a CPU), except
        when the dtype policy computes in bfloat16 on a CPU, where oneDNN's
        native bfloat16 kernels beat XLA (`keras_gans.precision`). Under a
        tf.distribute strategy it is always off (see below). Under a
        `mixed_float16` policy both optimisers get dynamic loss scaling.
        """
        default_d, default_g = self.default_optimizers()
        self.d_optimizer = keras.optimizers.get(d_optimizer) if d_optimizer is not None else default_d
        self.g_optimizer = keras.optimizers.get(g_optimizer) if g_optimizer is not None else default_g
        if self.dtype_policy.name == "mixed_float16":
            # Keras wraps only `self.optimizer` (keras#19479): wrap both by hand.
            self.d_optimizer, self.g_optimizer = (
                opt if isinstance(opt, keras.optimizers.LossScaleOptimizer) else keras.optimizers.LossScaleOptimizer(opt)
                for opt in (self.d_optimizer, self.g_optimizer)
            )
        kwargs.setdefault("jit_compile", precision.default_jit_compile())
        if distribute.is_distributed(self.distribute_strategy):
            # XLA around a multi-device step fails ("Trying to access resource
            # ... located in device CPU:1 from CPU:0"), as Keras' own "auto"
            # knows; TPUs compile the replica step with XLA anyway.
            kwargs["jit_compile"] = False
        super().compile(**kwargs)

    def get_compile_config(self):
        config = super().get_compile_config() or {}
        config = dict(config)
        config["d_optimizer"] = keras.saving.serialize_keras_object(self.d_optimizer)
        config["g_optimizer"] = keras.saving.serialize_keras_object(self.g_optimizer)
        return config

    def compile_from_config(self, config):
        config = dict(config)
        config["d_optimizer"] = keras.saving.deserialize_keras_object(config["d_optimizer"])
        config["g_optimizer"] = keras.saving.deserialize_keras_object(config["g_optimizer"])
        config = {k: v for k, v in config.items() if k in ("d_optimizer", "g_optimizer", "jit_compile", "steps_per_execution")}
        self.compile(**config)
        # Build both optimisers now, or Keras skips restoring their saved state.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_config(self):
        return {
            "name": self.name,
            "image_shape": self.image_shape,
            "latent_dim": self.latent_dim,
            "width": self.width,
            "n_critic": self.n_critic,
            "instance_noise": self.instance_noise,
            "label_smoothing": self.label_smoothing,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def call(self, z, training=False):
        return self.generator(z, training=training)

    # ----- sampling --------------------------------------------------------------

    @property
    def sampling_generator(self):
        """The network samples come from: the averaged generator when `ema_decay` is set, else the trained one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def noise(self, kind, batch_size, shape, draw, counter):
        """Training noise: this replica's `batch_size` rows of a global stateless batch.

        The one source of training randomness (latents, instance noise, the
        gradient penalty's alpha). `draw` (a DRAW_* constant) separates the
        quantities of one step; `counter` is the step counter of the
        optimiser about to update (its `iterations`), identical on every
        replica and restored on resume. A SeedGenerator would give every
        replica the same noise (keras-team/keras#18426); this gives each
        replica different noise, and the global batch of noise is the same
        whatever the number of replicas (`distribute.replica_noise`).
        """
        return distribute.replica_noise(kind, batch_size, shape, self.noise_seed.state, draw, counter)

    def sample_latent(self, batch_size, draw=DRAW_G_LATENT, counter=None):
        """Fresh training latents [batch_size, latent_dim] (see `noise`)."""
        if counter is None:
            counter = self.g_optimizer.iterations
        return self.noise("normal", batch_size, (self.latent_dim,), draw, counter)

    def generate(self, num, seed=None):
        """`num` images as a float32 numpy array [num, H, W, C] in [-1, 1] (inference mode).

        A given integer `seed` always gives the same latents (stateless RNG),
        the same ones the exported generator's `generate` signature uses.
        """
        if int(num) <= 0:
            raise ValueError(f"num must be a positive number of images, got {num}")
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1)
        z = latent_vectors(int(num), self.latent_dim, seed)
        return keras.ops.convert_to_numpy(self.sampling_generator(z, training=False))

    # ----- training ----------------------------------------------------------------

    def _add_instance_noise(self, images, draw, counter):
        if self.instance_noise <= 0:
            return images
        noise = self.noise("normal", tf.shape(images)[0], images.shape[1:], draw, counter)
        return images + self.instance_noise * noise

    def _critic_batches(self, real):
        """Split one fit batch into `n_critic` real batches, one per critic update."""
        if self.n_critic == 1:
            return [real]
        size = real.shape[0]
        if size is not None and size % self.n_critic:
            raise ValueError(
                f"{type(self).__name__} with n_critic={self.n_critic} uses a fresh real batch for "
                f"every critic update, so each train step needs n_critic * batch_size images; "
                f"got a batch of {size}. Batch the dataset at n_critic * batch_size, e.g. "
                f"keras_gans.data.load(spec, batch_size={self.n_critic} * 64)."
            )
        return tf.split(real, self.n_critic, axis=0)

    def _discriminator_step(self, real):
        batch_size = tf.shape(real)[0]
        step = self.d_optimizer.iterations
        # Fakes come from G in training mode (as in the article) but outside the
        # tape: the discriminator update needs no generator gradients.
        fake = self.generator(self.sample_latent(batch_size, DRAW_D_LATENT, step), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self._add_instance_noise(real, DRAW_D_NOISE_REAL, step), training=True)
            fake_logits = self.discriminator(self._add_instance_noise(fake, DRAW_D_NOISE_FAKE, step), training=True)
            per_example = self.discriminator_loss(real_logits, fake_logits)
            penalty = self.discriminator_penalty(real, fake)
            if penalty is not None:
                per_example = per_example + penalty
            loss = _average(per_example)
            # Identity unless the optimiser is a LossScaleOptimizer (mixed_float16),
            # whose apply() unscales the gradients again.
            scaled_loss = self.d_optimizer.scale_loss(loss)
        variables = self.discriminator.trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        self.trackers["d_grad_norm"].update_state(_global_norm(grads) / _loss_scale(self.d_optimizer))
        # Constraints attached to the critic's variables (WGAN clipping) are
        # applied by the optimiser right after this update.
        self.d_optimizer.apply(grads, variables)
        self.trackers["d_loss"].update_state(tf.reduce_mean(per_example))
        self.trackers["d_real"].update_state(tf.reduce_mean(self.discriminator_output(real_logits)))
        self.trackers["d_fake"].update_state(tf.reduce_mean(self.discriminator_output(fake_logits)))
        return real_logits, fake_logits

    def _generator_step(self, batch_size):
        step = self.g_optimizer.iterations
        z = self.sample_latent(batch_size, DRAW_G_LATENT, step)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            fake_logits = self.discriminator(self._add_instance_noise(fake, DRAW_G_NOISE, step), training=True)
            per_example = self.generator_loss(fake_logits)
            loss = _average(per_example)
            scaled_loss = self.g_optimizer.scale_loss(loss)
        variables = self.generator.trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        self.trackers["g_grad_norm"].update_state(_global_norm(grads) / _loss_scale(self.g_optimizer))
        self.trackers["g_diversity"].update_state(tf.reduce_mean(tf.math.reduce_std(tf.cast(fake, tf.float32), axis=0)))
        self.g_optimizer.apply(grads, variables)
        self.trackers["g_loss"].update_state(tf.reduce_mean(per_example))
        if self.ema_generator is not None:
            self._update_average()

    def _update_average(self):
        """One step of the generator average (see `ema_decay`), after the t-th generator update."""
        t = tf.cast(self.g_optimizer.iterations, tf.float32)  # already counts this update
        decay = tf.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        for average, raw in zip(self.ema_generator.weights, self.generator.weights):
            # Every replica holds the same raw weights (their gradients were
            # all-reduced), so every replica computes the same average.
            average.assign(decay * average + (1.0 - decay) * tf.cast(raw, average.dtype))

    def train_step(self, data):
        if self.d_optimizer is None:
            raise RuntimeError("Call model.compile() before model.fit().")
        real = data[0] if isinstance(data, (tuple, list)) else data
        real = tf.cast(real, tf.float32)
        batches = self._critic_batches(real)
        for real_batch in batches:
            self._discriminator_step(real_batch)
        self._generator_step(tf.shape(batches[0])[0])
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        return distribute.multi_worker_logs(logs, self.distribute_strategy)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras reduces the first distributed batch eagerly here, which fails
        # under MultiWorkerMirroredStrategy (keras-team/keras#20585; see
        # distribute.multi_worker_logs). A GAN is built at construction, so
        # the symbolic build needs no data batch.
        if distribute.is_multi_worker(self.distribute_strategy):
            with self.distribute_strategy.scope():
                self._symbolic_build(data_batch=None)
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def _averaged_copy(generator):
    """A frozen copy of `generator` (same architecture and weights) to hold its moving average."""
    try:
        copy = keras.models.clone_model(generator)
    except Exception as error:  # a custom generator Keras cannot rebuild from its config
        raise ValueError(
            f"ema_decay needs a copy of the generator, and keras.models.clone_model failed on it "
            f"({type(error).__name__}: {error}); make the generator serializable or drop ema_decay"
        ) from None
    copy.set_weights(generator.get_weights())
    copy.trainable = False
    return copy


def _loss_scale(optimizer):
    """The factor scale_loss() multiplied the loss by (1 without loss scaling)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return tf.cast(optimizer.dynamic_scale, tf.float32)
    return tf.constant(1.0, tf.float32) if optimizer.loss_scale_factor is None else tf.constant(
        float(optimizer.loss_scale_factor), tf.float32)


def _global_norm(grads):
    """L2 norm of all gradients together (this replica's share under tf.distribute)."""
    return tf.linalg.global_norm([g for g in grads if g is not None])


def _check_positive(**values):
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
