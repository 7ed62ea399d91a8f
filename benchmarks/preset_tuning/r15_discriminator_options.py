"""folder64 round 15 prototype: train.py with discriminator-side options for small datasets patched in.

    --r15=mirror   each real image is flipped left-right with probability 1/2 before the discriminator
                   sees it (StyleGAN2-ADA's --mirror: the folder's 3,781 images count as ~7,500)
    --r15=mbstd    a minibatch standard deviation feature (ProGAN, Karras et al. 2018; groups of 4) joins
                   the discriminator's last 4x4 feature map, so it can see a batch without variety
    --r15=bcr      balanced consistency regularisation on reals (Zhang et al. 2020, "Consistency
                   Regularization for GANs"): + 10 * (D(T(x)) - D(x))^2 per real image, T a random
                   flip and a shift by up to 1/8 of the side
A comma list combines them. A benchmark prototype, not a flag (BENCHMARKS.md "folder64 / Round 15").

    taskset -c 0 python benchmarks/preset_tuning/r15_discriminator_options.py --r15=mirror \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...
"""

import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

import train  # noqa: E402
from keras_gans import augment  # noqa: E402
from keras_gans.models import gan, train_step  # noqa: E402
from keras_gans.networks import dcgan as networks  # noqa: E402

flags.DEFINE_list("r15", [], "mirror, mbstd, bcr (round 15 prototype options)")

DRAW_MIRROR, DRAW_BCR = 40, 41  # draws no model uses
BCR_WEIGHT = 10.0


class MinibatchStddev(keras.layers.Layer):
    """Appends one feature map: the mean over features of the std over each group of `group_size` examples."""

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = group_size

    def call(self, x):
        height, width, channels = x.shape[1], x.shape[2], x.shape[3]
        y = tf.reshape(tf.cast(x, tf.float32), [self.group_size, -1, height, width, channels])
        std = tf.sqrt(tf.reduce_mean(tf.square(y - tf.reduce_mean(y, axis=0)), axis=0) + 1e-8)
        feature = tf.reduce_mean(std, axis=[1, 2, 3], keepdims=True)  # [B / group, 1, 1, 1]
        feature = tf.tile(feature, [self.group_size, height, width, 1])
        return tf.concat([x, tf.cast(feature, x.dtype)], axis=-1)


def build_mbstd_discriminator(image_shape=(28, 28, 1), width=64, batch_norm=True, name="discriminator"):
    """networks.build_discriminator (64x64, no padding) with MinibatchStddev before the 4x4 logit conv."""
    levels = int(math.log2(networks.canvas_size(image_shape) // 4))
    images = keras.Input(shape=image_shape, name="images")
    x = images
    filters = width
    for level in range(levels):
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=not (batch_norm and level > 0),
                                kernel_initializer=networks.conv_init(), name=f"down{level}")(x)
        if batch_norm and level > 0:
            x = networks._batch_norm(f"down{level}_bn")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        filters *= 2
    x = MinibatchStddev(name="minibatch_stddev")(x)
    x = keras.layers.Conv2D(1, 4, padding="valid", kernel_initializer=networks.conv_init(), name="to_logit")(x)
    return keras.Model(images, keras.layers.Flatten(dtype="float32", name="logits")(x), name=name)


def _mirror(model, images, draw, counter):
    flip = model.noise("uniform", tf.shape(images)[0], (), draw, counter) < 0.5
    return tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)


def patch(options):
    if "mirror" in options:
        discriminator_step = train_step.TrainStepMixin._discriminator_step

        def mirrored_discriminator_step(self, real, labels=None):
            return discriminator_step(self, _mirror(self, real, DRAW_MIRROR, self.d_optimizer.iterations), labels)

        train_step.TrainStepMixin._discriminator_step = mirrored_discriminator_step
    if "mbstd" in options:
        networks.build_discriminator = build_mbstd_discriminator
    if "bcr" in options:
        penalty = gan.GAN.discriminator_penalty

        def penalty_with_bcr(self, real, fake, labels=None):
            step = self.d_optimizer.iterations
            uniforms = self.noise("uniform", tf.shape(real)[0], (2,), DRAW_BCR, step)
            moved = augment.translation(_mirror(self, real, DRAW_BCR + 1, step), uniforms[:, 0], uniforms[:, 1])
            consistency = tf.reduce_sum(tf.square(self._critic(moved, labels) - self._critic(real, labels)), axis=-1)
            others = penalty(self, real, fake, labels)
            return BCR_WEIGHT * consistency + (0.0 if others is None else others)

        gan.GAN.discriminator_penalty = penalty_with_bcr


def main(argv):
    patch(set(flags.FLAGS.r15))
    train.main(argv)


if __name__ == "__main__":
    sys.argv[0] = os.path.join(ROOT, "train.py")
    app.run(main)
