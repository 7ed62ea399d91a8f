"""The GAN training algorithm as a `keras.Model`; the other models are configurations of it.

`GAN.train_step` (`models.train_step`) is Algorithm 1 of Goodfellow et al.
(2014) with the non-saturating generator loss: `n_critic` discriminator
updates, then one generator update. The subclasses differ only in class attributes and
constructor defaults, never by switching a feature off:

  attribute                  GAN        DCGAN            WGAN                 WGAN-GP
  networks                   mlp        dcgan            dcgan                dcgan
  discriminator_options      -          batch_norm       batch_norm           no batch_norm
  loss_kind                  bce        bce              wasserstein          wasserstein
  optimizer_settings         Adam 1e-4  Adam 2e-4, 0.5   RMSprop 2e-4         Adam 2e-4, (0, 0.9)
  clip_value (critic clip)   0          0                0.01                 0
  gp_weight (lambda * GP)    0          0                0                    10

Every model also takes the stabilisers, each off by default: `loss="hinge"`
(or any of `losses.LOSS_KINDS`), `spectral_norm` (discriminator),
`r1_gamma` (R1 penalty on real images) and `diffaugment` (DiffAugment on
real and fake images before D; `keras_gans.augment`).

Randomness: training noise (latents, instance noise, WGAN-GP's alpha,
DiffAugment's draws) is stateless, keyed by the model's seed variable
(`noise_seed.state`, saved and restored with the weights), by which draw it
is, and by the optimiser's step counter (`noise()`). Under tf.distribute each
replica takes its own slice of one global batch of noise
(`keras_gans.distribute.replica_noise`), so replicas get different noise and
results do not depend on the replica count. `generate(n, seed)` uses
`keras_gans.latents.latent_vectors`, so a seed always means the same latents,
here and in the exported generator.

Generator averaging (`ema_decay`, off by default as in the article):
`ema_generator` follows the trained generator (`models.averaging`); when
enabled, `generate`, the sample grids, the quality metrics and the export
all use it (`sampling_network()`: the average, with standing BatchNorm
statistics when it has BatchNorm layers; `models.averaging`).
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gans import augment, cpu_threads, losses
from keras_gans import precision as precision_lib
from keras_gans.errors import UserError
from keras_gans.latents import class_labels, latent_vectors  # noqa: F401  (latent_vectors: importable from here for one release)
from keras_gans.models import averaging, checks, conditional
from keras_gans.models._keras_compat import MultiWorkerBuildMixin
from keras_gans.models.clipping import attach_weight_clipping
from keras_gans.models.xla_choice import XlaChoiceMixin
from keras_gans.networks import mlp
from keras_gans.networks.spectral import with_spectral_norm

from keras_gans.models.train_step import DRAW_GP_ALPHA, TrainStepMixin  # noqa: F401  (DRAW_*: old import path)


def _with_fixed_labels(discriminator, labels):
    """A critic of images alone, for the penalties: the conditional `discriminator` with `labels` held fixed."""
    def critic(images, training=True):
        return discriminator([images, labels], training=training)

    return critic


@keras.saving.register_keras_serializable(package="keras_gans")
class GAN(TrainStepMixin, XlaChoiceMixin, MultiWorkerBuildMixin, keras.Model):
    """The fully connected GAN of the reference article (MLP G and D, BCE loss).

    Args:
        image_shape: (height, width, channels) of the training images.
        latent_dim: size of the latent vector z ~ N(0, I).
        width: network width (MLP: first hidden layer; DCGAN: first conv filters).
        generator, discriminator: optional custom networks honouring the
            contract in `keras_gans.networks` (they replace the built-in ones).
            The discriminator returns logits, [B, 1] or one per patch [B, H, W, 1].
        n_critic: discriminator updates per generator update. Each uses its
            OWN real batch, as the article's scripts do (they step D on every
            loader batch and G on every n-th): a train step therefore consumes
            a batch of `n_critic * batch_size` images and splits it.
        instance_noise: std of Gaussian noise added to the discriminator's
            inputs, real AND fake (Sønderby et al. 2016; noising only the real
            images, as some scripts do, lets D tell them apart by the noise).
        label_smoothing: one-sided label smoothing: the real target becomes
            1 - label_smoothing (0.1 gives the article's 0.9); BCE loss only.
        ema_decay: keep an exponential moving average of the generator's
            weights (BatchNorm statistics included) in `ema_generator`, and
            sample from it (`models.averaging.update_average`). 0 or None: off.
        seed: seed of the training noise; None for a random one.
        loss: "bce", "wasserstein" or "hinge"; None: the model's `loss_kind`.
        spectral_norm: spectrally normalise the discriminator's Dense/Conv
            layers (Miyato et al. 2018; `networks.spectral`).
        r1_gamma: weight of the R1 penalty gamma / 2 * ||grad_x D(x)||^2 on
            real images (Mescheder et al. 2018); 0: off.
        r1_interval: lazy R1 (Karras et al. 2020, StyleGAN2): the penalty is
            computed on every r1_interval-th discriminator update only, with
            its weight multiplied by r1_interval so its average pull is the
            same; its double backward pass is then paid on 1 update in N.
            1 (default): every update.
        diffaugment: DiffAugment policy, a comma list of color, translation,
            cutout (Zhao et al. 2020); "": off.
        clip_value: clip every critic weight to [-clip_value, clip_value]
            after each critic update (WGAN); 0 or None: off.
        gp_weight: lambda of the WGAN-GP gradient penalty; 0: off.
        resize_conv_layers: DCGAN networks: the generator's last N upsamplings
            (its output layer counts as one) become nearest-neighbour x2 +
            3x3 convolutions instead of transposed convolutions, against
            their dotted texture (`networks.dcgan.build_generator`); 0: off.
        num_classes: train a class-conditional model on (images, labels)
            batches, labels in [0, num_classes) (`models.conditional`:
            class embedding in G, projection discriminator); None: unconditional.
        precision: the dtype policy the networks compute in: "auto" (the
            fastest: mixed_bfloat16 on CPUs with native bfloat16, else
            float32; `keras_gans.precision.resolve`), "float32",
            "mixed_bfloat16" or "mixed_float16". The resolved name is kept in
            `precision` and in `get_config`. Your own networks are converted
            when built wholly in float32 (`keras_gans.precision.apply`).

    Example:
        model = keras_gans.GAN(image_shape=(28, 28, 1))
        model.compile()
        model.fit(keras_gans.data.load("sample", batch_size=128), epochs=5)
        images = model.generate(16, seed=0)
    """

    loss_kind = "bce"
    networks = mlp
    discriminator_options = {}
    optimizer_settings = ("Adam", {"learning_rate": 1e-4, "epsilon": 1e-8})  # PyTorch's Adam epsilon
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
        loss=None,
        spectral_norm=False,
        r1_gamma=0.0,
        r1_interval=1,
        diffaugment="",
        clip_value=0.0,
        gp_weight=0.0,
        resize_conv_layers=0,
        num_classes=None,
        precision="auto",
        **kwargs,
    ):
        # First, before anything here runs a TensorFlow op (the pools are fixed from then on).
        self.configure_cpu_threads(width)
        self.precision = precision_lib.resolve(precision)
        # The model's own policy too: compile() reads it (mixed_float16's loss scaling).
        kwargs.setdefault("dtype", self.precision)
        super().__init__(**kwargs)
        self.num_classes = conditional.check_num_classes(num_classes)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.latent_dim = int(latent_dim)
        self.width = int(width if width is not None else self.default_width)
        self.n_critic = int(n_critic if n_critic is not None else self.default_n_critic)
        self.instance_noise = float(instance_noise if instance_noise is not None else self.default_instance_noise)
        self.label_smoothing = float(label_smoothing)
        self.seed = seed
        _check_positive(latent_dim=self.latent_dim, width=self.width, n_critic=self.n_critic)
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UserError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if self.instance_noise < 0:
            raise UserError(f"instance_noise must be >= 0, got {instance_noise}")
        self.ema_decay = float(ema_decay or 0.0)
        if not 0.0 <= self.ema_decay < 1.0:
            raise UserError(f"ema_decay must be in [0, 1) (0 turns averaging off), got {ema_decay}")
        self._configure_stabilisers(loss, spectral_norm, r1_gamma, r1_interval, diffaugment, clip_value, gp_weight)
        self.resize_conv_layers = self._check_resize_conv_layers(resize_conv_layers, generator)

        if generator is not None:
            checks.check_generator_input(generator, self.latent_dim)
        if generator is None or discriminator is None:
            # The built-in networks are built under the policy (their output
            # layers ask for float32 themselves); yours are converted by `apply`.
            with precision_lib.policy(self.precision):
                built_g, built_d = self.build_networks()
            generator = generator or built_g
            discriminator = discriminator or built_d
        if self.num_classes is not None:
            conditional.check_two_inputs(generator, "generator")
            conditional.check_two_inputs(discriminator, "discriminator")
        generator = precision_lib.apply(generator, self.precision)
        discriminator = precision_lib.apply(discriminator, self.precision)
        checks.check_discriminator_logits(discriminator)
        if self.spectral_norm:
            discriminator = with_spectral_norm(discriminator)
        # Attribute order fixes the order of `model.variables`, which checkpoints
        # store by position: new variables go after these.
        self.generator = generator
        self.discriminator = discriminator
        self.ema_generator = averaging.averaged_copy(generator) if self.ema_decay else None
        self._standing = _StandingCopy()  # not a Keras attribute: never saved, never in `model.variables`
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")
        if self.clip_value:
            attach_weight_clipping(self.discriminator, self.clip_value)
        self._create_trackers()
        self.d_optimizer = None
        self.g_optimizer = None
        self.built = True

    def _configure_stabilisers(self, loss, spectral_norm, r1_gamma, r1_interval, diffaugment, clip_value, gp_weight):
        # `loss` when given, else the class's own; set on the instance, the class keeps its kind.
        self.loss_kind = str(loss) if loss else type(self).loss_kind
        if self.loss_kind not in losses.LOSS_KINDS:
            raise UserError(f"loss must be one of {', '.join(losses.LOSS_KINDS)}, got {loss!r}")
        if self.label_smoothing and self.loss_kind != "bce":
            # Smoothing moves the BCE target; other losses have none, so it would be silently ignored.
            raise UserError(f"label_smoothing applies to the BCE loss only; this {type(self).__name__} uses the "
                            f"{self.loss_kind} loss: drop label_smoothing (--label_smoothing=0)")
        self.spectral_norm = bool(spectral_norm)
        self.diffaugment = ",".join(augment.parse_policy(diffaugment))
        for name, value in (("r1_gamma", r1_gamma), ("clip_value", clip_value), ("gp_weight", gp_weight)):
            value = float(value or 0.0)
            if value < 0:
                raise UserError(f"{name} must be >= 0 (0 turns it off), got {value}")
            setattr(self, name, value)
        self.r1_interval = _check_r1_interval(r1_interval)
        if self.r1_interval > 1 and not self.r1_gamma:
            # Not silently ignored: it describes a penalty that is off.
            raise UserError(f"r1_interval={self.r1_interval} sets how often the R1 penalty is computed, but R1 is "
                            f"off: set r1_gamma > 0 (--r1_gamma) or drop r1_interval")

    def _check_resize_conv_layers(self, value, generator):
        if not value:
            return 0
        if generator is not None:
            # Not silently ignored: it describes the built-in generator, which yours replaces.
            raise UserError("resize_conv_layers shapes the built-in generator; with your own generator, "
                            "build its upsampling yourself and leave resize_conv_layers at 0")
        if not hasattr(self.networks, "check_resize_conv_layers"):
            raise UserError(f"resize_conv_layers applies to the convolutional generators (dcgan, wgan, wgan_gp); "
                            f"{type(self).__name__}'s is fully connected: leave it at 0")
        return self.networks.check_resize_conv_layers(value, self.image_shape)

    # ----- configuration hooks -------------------------------------------------

    def _generator_options(self):
        # Only when set: the MLP builder and custom `networks` modules take no such argument.
        return {"resize_conv_layers": self.resize_conv_layers} if self.resize_conv_layers else {}

    def build_networks(self):
        if self.num_classes is not None:
            return self._build_conditional_networks()
        return (
            self.networks.build_generator(self.latent_dim, self.image_shape, self.width, **self._generator_options()),
            self.networks.build_discriminator(self.image_shape, self.width, **self.discriminator_options),
        )

    def _build_conditional_networks(self):
        latent = self.latent_dim + conditional.CLASS_EMBEDDING_DIM
        base_g = self.networks.build_generator(latent, self.image_shape, self.width, name="base_generator",
                                               **self._generator_options())
        base_d = self.networks.build_discriminator(
            self.image_shape, self.width, name="base_discriminator", **self.discriminator_options)
        return (conditional.conditional_generator(base_g, self.latent_dim, self.num_classes),
                conditional.projection_discriminator(base_d, self.num_classes))

    @classmethod
    def configure_cpu_threads(cls, width=None):
        """Sets TensorFlow's CPU thread pools for this model's networks (`keras_gans.cpu_threads`).

        Done by the constructor; train.py calls it before loading data, which
        would fix the pools first. A no-op once TensorFlow has run an op.
        """
        try:
            width = int(width if width is not None else cls.default_width)
        except (TypeError, ValueError):
            return False  # the constructor reports the bad width
        return cpu_threads.configure(convolutional=cls.networks is not mlp, width=width)

    def default_optimizers(self):
        name, settings = self.optimizer_settings
        return tuple(getattr(keras.optimizers, name)(**settings) for _ in ("d", "g"))

    def discriminator_loss(self, real_logits, fake_logits):
        return losses.discriminator_loss(self.loss_kind, real_logits, fake_logits,
                                         real_label=1.0 - self.label_smoothing)

    def generator_loss(self, fake_logits):
        return losses.generator_loss(self.loss_kind, fake_logits)

    def discriminator_penalty(self, real, fake, labels=None):
        """Per-example regularisers added to the discriminator loss (GP, R1), or None.

        A conditional model's penalties take the gradient with respect to the images, labels held fixed.
        """
        critic = self.discriminator if labels is None else _with_fixed_labels(self.discriminator, labels)
        penalties = []
        if self.gp_weight > 0:
            # One alpha per example, from the same replica-aware noise as the latents.
            alpha = self.noise("uniform", tf.shape(real)[0], (), DRAW_GP_ALPHA, self.d_optimizer.iterations)
            penalty = losses.gradient_penalty(critic, real, fake, alpha)
            self.trackers["gradient_penalty"].update_state(tf.reduce_mean(penalty))
            penalties.append(self.gp_weight * penalty)
        if self.r1_gamma > 0 and self.r1_interval == 1:  # lazy R1 is `lazy_r1_gradients`
            penalty = losses.r1_penalty(critic, real)
            self.trackers["r1_penalty"].update_state(tf.reduce_mean(penalty))
            penalties.append(0.5 * self.r1_gamma * penalty)
        return sum(penalties[1:], penalties[0]) if penalties else None

    def lazy_r1_gradients(self, real, labels, variables):
        """Lazy R1's gradients for `variables` (D's), scaled as the D loss is, or None when R1 is not lazy.

        On every `r1_interval`-th discriminator update: the gradients of
        global_mean(r1_interval * gamma / 2 * R1); zeros on the others. The
        condition wraps the gradient computation itself, so nothing is
        differentiated through it (XLA cannot compile the gradient of a
        tf.cond over BatchNorm layers).
        """
        if self.r1_interval == 1:  # (an r1_interval > 1 implies r1_gamma > 0: the constructor checks it)
            return None
        critic = self.discriminator if labels is None else _with_fixed_labels(self.discriminator, labels)
        # The counter of the update being computed: the same on every replica, so all take the same branch.
        due = tf.equal(self.d_optimizer.iterations % self.r1_interval, 0)

        def penalty_gradients():
            with tf.GradientTape() as tape:
                penalty = losses.r1_penalty(critic, real)
                loss = losses.global_mean(0.5 * self.r1_gamma * self.r1_interval * penalty)
                scaled_loss = self.d_optimizer.scale_loss(loss)
            grads = tape.gradient(scaled_loss, variables)
            return [tf.reduce_mean(penalty)] + [tf.zeros_like(v) if g is None else tf.cast(g, v.dtype)
                                               for g, v in zip(grads, variables)]

        def no_gradients():
            return [tf.zeros([], tf.float32)] + [tf.zeros_like(v) for v in variables]

        mean_penalty, *grads = tf.cond(due, penalty_gradients, no_gradients)
        # r1_penalty reports the penalty where it was computed (weight 0 elsewhere), not diluted by the skips.
        self.trackers["r1_penalty"].update_state(mean_penalty, sample_weight=tf.cast(due, tf.float32))
        return grads

    def discriminator_output(self, logits):
        """What `d_real` / `d_fake` report: D's probability for BCE, the raw score otherwise."""
        return tf.sigmoid(logits) if self.loss_kind == "bce" else logits

    def _create_trackers(self):
        # Gradient norms (before any clipping) are the first sign of a diverging
        # run; g_diversity (per-pixel std across G's training batch, averaged)
        # falls to zero when the generator collapses (keras_gans.health).
        # Wasserstein models also log `wasserstein`, the critic's estimate E[D(x)] - E[D(G(z))].
        names = ["d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "g_diversity"]
        if self.loss_kind == "wasserstein":
            names.append("wasserstein")
        if self.gp_weight > 0:
            names.append("gradient_penalty")
        if self.r1_gamma > 0:
            names.append("r1_penalty")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    # ----- Keras plumbing -------------------------------------------------------

    @property
    def metrics(self):
        # Listed here so Keras resets them at each epoch and logs them in fit.
        return list(self.trackers.values())

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Sets the two optimisers (the article's when omitted); other kwargs go to Keras.

        `jit_compile` "auto" (the default, also None): the first `fit` times
        a few train steps with and without XLA and keeps the faster, cached
        per network signature (`models.xla_choice`); True/False force it.
        Under a tf.distribute strategy it is always off. Under a
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
        kwargs["jit_compile"] = self._resolve_jit_compile(kwargs.get("jit_compile", "auto"))
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
        self.build_optimizer_slots()

    def get_config(self):
        config = {
            "name": self.name,
            "image_shape": self.image_shape,
            "latent_dim": self.latent_dim,
            "width": self.width,
            "n_critic": self.n_critic,
            "instance_noise": self.instance_noise,
            "label_smoothing": self.label_smoothing,
            "ema_decay": self.ema_decay,
            "seed": self.seed,
            "loss": self.loss_kind,
            "spectral_norm": self.spectral_norm,
            "r1_gamma": self.r1_gamma,
            "diffaugment": self.diffaugment,
            "clip_value": self.clip_value,
            "gp_weight": self.gp_weight,
            "precision": self.precision,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
        }
        if self.num_classes is not None:  # only then: unconditional configs stay as they were
            config["num_classes"] = self.num_classes
        if self.resize_conv_layers:  # likewise
            config["resize_conv_layers"] = self.resize_conv_layers
        if self.r1_interval != 1:  # likewise
            config["r1_interval"] = self.r1_interval
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        if "precision" not in config and isinstance(config.get("generator"), keras.Model):
            # Saved before models recorded their precision: the one their layers were built in.
            config["precision"] = precision_lib.network_policy(config["generator"])
        loss = config.get("loss") or cls.loss_kind
        if config.get("label_smoothing") and loss != "bce":
            # Saved before such models refused it: it never had an effect, so it loads as 0.
            config["label_smoothing"] = 0.0
        # The saved generator already has this architecture; it is recorded, not rebuilt.
        resize_conv_layers = int(config.pop("resize_conv_layers", 0) or 0)
        model = cls(**config)
        model.resize_conv_layers = resize_conv_layers
        return model

    def call(self, z, training=False):
        # A conditional model takes [z, labels].
        return self.generator(z, training=training)

    # ----- sampling --------------------------------------------------------------

    @property
    def sampling_generator(self):
        """The generator whose weights samples come from: the average when `ema_decay` is set, else the trained one.

        `generate`, the sample grids, the quality metrics and the export sample
        through `sampling_network()`, which adds standing BatchNorm statistics.
        """
        # A property must keep returning one of the tracked networks: Keras' saving
        # walks every attribute (properties too) and would save any other network it finds.
        return self.ema_generator if self.ema_generator is not None else self.generator

    def sampling_network(self):
        """The network samples come from: `sampling_generator`, or a copy of it with standing statistics.

        An unconditional average with BatchNorm layers is served through a copy
        with standing statistics (`models.averaging`), measured again whenever
        the average has changed since the last call. A conditional one keeps its
        averaged statistics: the class mix they should be measured on is the
        training data's, which the model does not record. Without `ema_decay`
        this is the trained generator, whose statistics are its own.
        """
        if self.ema_generator is None or self.num_classes is not None:
            return self.sampling_generator
        if not averaging.batch_norm_layers(self.ema_generator):
            return self.ema_generator
        return self._standing.of(self.ema_generator, self.g_optimizer, self.latent_dim)

    def generate(self, num, seed=None, labels=None, standing_statistics=True):
        """`num` images as a float32 numpy array [num, H, W, C] in [-1, 1] (inference mode).

        A given integer `seed` always gives the same latents (stateless RNG),
        the same ones the exported generator's `generate` signature uses.
        A conditional model takes `labels`, one class id per image (or one
        for all); None draws classes at random, the same ones for the same seed.
        Samples come from `sampling_network()`; `standing_statistics=False`
        takes `sampling_generator` as it is instead (the average with the
        BatchNorm statistics it was trained with), as the sample grids do
        during training, where measuring them every epoch would cost time.
        """
        if int(num) <= 0:
            raise ValueError(f"num must be a positive number of images, got {num}")
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1)
        z = latent_vectors(int(num), self.latent_dim, seed)
        network = self.sampling_network() if standing_statistics else self.sampling_generator
        if self.num_classes is None:
            if labels is not None:
                raise UserError(f"labels need a conditional model (num_classes=...); this {type(self).__name__} is unconditional")
            return keras.ops.convert_to_numpy(network(z, training=False))
        if labels is None:
            labels = class_labels(int(num), self.num_classes, seed)
        labels = conditional.check_labels(labels, int(num), self.num_classes)
        return keras.ops.convert_to_numpy(network([z, tf.constant(labels)], training=False))


class _StandingCopy:
    """The averaged generator with standing BatchNorm statistics, measured again only when the average changed."""

    def __init__(self):
        self.network = None
        self.key = None

    def of(self, average_network, g_optimizer, latent_dim):
        # The average changes with every generator update and with every load of
        # saved weights; its BatchNorm means (a few hundred numbers) change with both.
        steps = None if g_optimizer is None else int(keras.ops.convert_to_numpy(g_optimizer.iterations))
        key = (steps, b"".join(np.asarray(keras.ops.convert_to_numpy(layer.moving_mean)).tobytes()
                               for layer in averaging.batch_norm_layers(average_network)))
        if self.network is None or key != self.key:
            if self.network is None:
                self.network = averaging.averaged_copy(average_network)
            latents = latent_vectors(averaging.CALIBRATION_SAMPLES, latent_dim, averaging.CALIBRATION_SEED)
            averaging.standing_statistics(self.network, average_network, latents)
            self.key = key
        return self.network


def _check_positive(**values):
    for name, value in values.items():
        if value <= 0:
            raise UserError(f"{name} must be positive, got {value}")


def _check_r1_interval(value):
    """`value` as a whole number >= 1, or a one-line UserError."""
    try:
        interval = int(value)
    except (TypeError, ValueError):
        interval = 0
    if interval < 1 or interval != float(value):
        raise UserError(f"r1_interval must be a whole number >= 1 (1: R1 on every discriminator update; "
                        f"16: StyleGAN2's lazy R1), got {value!r}")
    return interval
