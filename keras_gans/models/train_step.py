"""One training step of every model: `n_critic` critic updates, then one generator update.

`TrainStepMixin` is mixed into `models.gan.GAN`; it reads the model's
configuration (networks, loss and penalty hooks, stabilisers, optimisers)
and holds no state of its own.
"""

import tensorflow as tf

from keras_gans import augment, distribute, losses
from keras_gans.errors import UserError
from keras_gans.models import averaging, checks, conditional, epoch_input
from keras_gans.models._keras_compat import loss_scale

# Independent random draws within one train step (see `noise`). New draws go
# at the end: renumbering would change the noise of existing runs.
(DRAW_D_LATENT, DRAW_D_NOISE_REAL, DRAW_D_NOISE_FAKE, DRAW_G_LATENT, DRAW_G_NOISE, DRAW_GP_ALPHA,
 DRAW_AUG_REAL, DRAW_AUG_FAKE, DRAW_AUG_G) = range(9)


class TrainStepMixin:
    """`train_step` and the training noise of a GAN model."""

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

    def _add_instance_noise(self, images, draw, counter):
        if self.instance_noise <= 0:
            return images
        noise = self.noise("normal", tf.shape(images)[0], images.shape[1:], draw, counter)
        return images + self.instance_noise * noise

    def _augment(self, images, draw, counter):
        """DiffAugment with this step's draws (identity when `diffaugment` is off)."""
        if not self.diffaugment:
            return images
        uniforms = self.noise("uniform", tf.shape(images)[0], (augment.NUM_UNIFORMS,), draw, counter)
        return augment.diff_augment(images, self.diffaugment, uniforms)

    def _critic_batches(self, real):
        """Split one fit batch into `n_critic` real batches, one per critic update."""
        if self.n_critic == 1:
            return [real]
        message = checks.n_critic_message(type(self).__name__, self.n_critic, "{size}")
        size = real.shape[0]
        if size is not None and size % self.n_critic:
            raise UserError(message.format(size=size))
        if size is None:
            # Known only at run time: `fit` checked the input already
            # (`checks.check_critic_batches`); this catches what it cannot see
            # (a distributed dataset) when XLA is off: XLA drops assertions.
            check = tf.debugging.assert_equal(
                tf.shape(real)[0] % self.n_critic, 0, message=message.format(size="not divisible by n_critic"))
            with tf.control_dependencies([check]):
                real = tf.identity(real)
        return tf.split(real, self.n_critic, axis=0)

    def build_optimizer_slots(self):
        """Creates both optimisers' slots now, in the model's strategy scope (a no-op when built)."""
        with self.distribute_strategy.scope():
            for optimizer, network in ((self.d_optimizer, self.discriminator), (self.g_optimizer, self.generator)):
                if not optimizer.built:
                    optimizer.build(network.trainable_variables)

    def fit(self, x=None, *args, **kwargs):
        # Keras' signature is fit(x, y, batch_size, ...): batch_size may come positionally.
        batch_size = args[1] if len(args) > 1 else kwargs.get("batch_size")
        x = checks.check_critic_batches(x, batch_size, self.n_critic, type(self).__name__)
        conditional_model = bool(getattr(self, "num_classes", None))
        if conditional_model:
            x = conditional.checked_training_input(x, args[0] if args else kwargs.get("y"), self.num_classes)
        x, kwargs = epoch_input.repeat_for_epochs(x, args, kwargs, self.distribute_strategy)
        # Keras builds an optimiser's slots at its first step; under a tf.distribute strategy that is
        # inside the replicated step, where creating them fails (Adam, RMSprop: "You must feed a value
        # for placeholder tensor ... cond/Placeholder").
        if self.d_optimizer is not None:  # (uncompiled: Keras' own fit says so)
            self.build_optimizer_slots()
        if not conditional_model:
            return super().fit(x, *args, **kwargs)
        try:
            return super().fit(x, *args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            if conditional.LABEL_RANGE_ERROR in str(error):
                raise UserError(conditional.label_range_message(self.num_classes)) from None
            raise

    def _critic(self, images, labels, training=True):
        """D's logits; a conditional model's discriminator also takes the labels (held fixed)."""
        if labels is None:
            return self.discriminator(images, training=training)
        return self.discriminator([images, labels], training=training)

    def _generate_training(self, z, labels):
        return self.generator(z if labels is None else [z, labels], training=True)

    def _discriminator_step(self, real, labels=None):
        batch_size = tf.shape(real)[0]
        step = self.d_optimizer.iterations
        # Fakes come from G in training mode (as in the article) but outside the
        # tape: the discriminator update needs no generator gradients. A
        # conditional model's fakes take the real batch's labels, so they
        # follow the data's class frequencies.
        fake = self._generate_training(self.sample_latent(batch_size, DRAW_D_LATENT, step), labels)
        # The penalties see the images D sees: augmented, before instance noise.
        real = self._augment(real, DRAW_AUG_REAL, step)
        fake = self._augment(fake, DRAW_AUG_FAKE, step)
        with tf.GradientTape() as tape:
            real_logits = self._critic(self._add_instance_noise(real, DRAW_D_NOISE_REAL, step), labels)
            fake_logits = self._critic(self._add_instance_noise(fake, DRAW_D_NOISE_FAKE, step), labels)
            per_example = self.discriminator_loss(real_logits, fake_logits)
            penalty = self.discriminator_penalty(real, fake, *([] if labels is None else [labels]))
            if penalty is not None:
                per_example = per_example + penalty
            loss = losses.global_mean(per_example)
            # Identity unless the optimiser is a LossScaleOptimizer (mixed_float16),
            # whose apply() unscales the gradients again.
            scaled_loss = self.d_optimizer.scale_loss(loss)
        variables = self.discriminator.trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        lazy_r1 = self.lazy_r1_gradients(real, labels, variables)  # None unless r1_interval > 1
        if lazy_r1 is not None:
            grads = [g if g is None else g + r for g, r in zip(grads, lazy_r1)]
        self.trackers["d_grad_norm"].update_state(_global_norm(grads) / loss_scale(self.d_optimizer))
        # Constraints attached to the critic's variables (WGAN clipping) are
        # applied by the optimiser right after this update.
        self.d_optimizer.apply(grads, variables)
        self.trackers["d_loss"].update_state(tf.reduce_mean(per_example))
        self.trackers["d_real"].update_state(tf.reduce_mean(self.discriminator_output(real_logits)))
        self.trackers["d_fake"].update_state(tf.reduce_mean(self.discriminator_output(fake_logits)))
        if "wasserstein" in self.trackers:
            self.trackers["wasserstein"].update_state(tf.reduce_mean(real_logits) - tf.reduce_mean(fake_logits))
        return real_logits, fake_logits

    def _generator_step(self, batch_size, labels=None):
        step = self.g_optimizer.iterations
        z = self.sample_latent(batch_size, DRAW_G_LATENT, step)
        with tf.GradientTape() as tape:
            fake = self._generate_training(z, labels)
            seen = self._add_instance_noise(self._augment(fake, DRAW_AUG_G, step), DRAW_G_NOISE, step)
            fake_logits = self._critic(seen, labels)
            per_example = self.generator_loss(fake_logits)
            loss = losses.global_mean(per_example)
            scaled_loss = self.g_optimizer.scale_loss(loss)
        variables = self.generator.trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        self.trackers["g_grad_norm"].update_state(_global_norm(grads) / loss_scale(self.g_optimizer))
        self.trackers["g_diversity"].update_state(tf.reduce_mean(tf.math.reduce_std(tf.cast(fake, tf.float32), axis=0)))
        self.g_optimizer.apply(grads, variables)
        self.trackers["g_loss"].update_state(tf.reduce_mean(per_example))
        if self.ema_generator is not None:
            # `iterations` already counts this update.
            averaging.update_average(self.ema_generator, self.generator, self.ema_decay, self.g_optimizer.iterations)

    def train_step(self, data):
        if self.d_optimizer is None:
            raise RuntimeError("Call model.compile() before model.fit().")
        real, labels = conditional.split_batch(data)
        real = tf.cast(real, tf.float32)
        batches = self._critic_batches(real)
        if self.num_classes is None:
            for real_batch in batches:
                self._discriminator_step(real_batch)
            self._generator_step(tf.shape(batches[0])[0])
        else:
            # Labels travel with their images: split alike, one slice per critic update;
            # the generator update takes the first slice's labels.
            labels = conditional.training_labels(labels, type(self).__name__, self.num_classes)
            label_batches = tf.split(labels, self.n_critic, axis=0) if self.n_critic > 1 else [labels]
            for real_batch, label_batch in zip(batches, label_batches):
                self._discriminator_step(real_batch, label_batch)
            self._generator_step(tf.shape(batches[0])[0], label_batches[0])
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        return distribute.multi_worker_logs(logs, self.distribute_strategy)


def _global_norm(grads):
    """L2 norm of all gradients together (this replica's share under tf.distribute)."""
    return tf.linalg.global_norm([g for g in grads if g is not None])


