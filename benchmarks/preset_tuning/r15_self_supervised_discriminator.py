"""folder64 round 15 prototype: a self-supervised discriminator (FastGAN, Liu et al. 2021) patched into train.py.

FastGAN's answer to a discriminator that overfits a small dataset: on real images only, small
decoders must reconstruct the image from the discriminator's features, so those features have to
describe the whole image, not just the few cues that separate it from the current fakes. Here:
the 8x8 features (after `down2_bn`) decode to the whole image at 32x32, and one 8x8 quadrant of the
16x16 features (after `down1_bn`; the quadrant turns with the step) decodes to that quadrant of the
64x64 image at 32x32. Each decoder: LeakyReLU, then twice (nearest x2, 3x3 conv, BatchNorm,
LeakyReLU), then a 3x3 conv to RGB and tanh (16 and 8 channels). The loss is the mean absolute
pixel error (FastGAN uses a perceptual distance, which needs a pretrained network this package does
not ship), weight 1, added to the discriminator's loss through its penalty hook; the decoders have
their own Adam (the discriminator's learning rate, beta_1 0.5). The decoders are not checkpointed:
a prototype for equal-time runs, not a flag (BENCHMARKS.md "folder64 / Round 15").

    taskset -c 0 python benchmarks/preset_tuning/r15_self_supervised_discriminator.py \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...
"""

import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app  # noqa: E402

import train  # noqa: E402
from keras_gans.models import gan  # noqa: E402
from keras_gans.networks import dcgan as networks  # noqa: E402

RECONSTRUCTION_WEIGHT = 1.0


def build_decoder(feature_shape, channels, name):
    features = keras.Input(shape=feature_shape)
    x = keras.layers.LeakyReLU(0.2)(features)
    for i, filters in enumerate(channels):
        x = keras.layers.UpSampling2D(2)(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=networks.conv_init())(x)
        x = networks._batch_norm(f"{name}_bn{i}")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Conv2D(3, 3, padding="same", kernel_initializer=networks.conv_init())(x)
    return keras.Model(features, keras.layers.Activation("tanh", dtype="float32")(x), name=name)


def _attach_decoders(model):
    d = model.discriminator
    features = keras.Model(d.inputs, [d.get_layer("down2_bn").output, d.get_layer("down1_bn").output])
    f8, f16 = features.outputs
    whole = build_decoder(f8.shape[1:], (16, 8), "decode_whole")
    part = build_decoder((f16.shape[1] // 2, f16.shape[2] // 2, f16.shape[3]), (16, 8), "decode_part")
    optimizer = keras.optimizers.Adam(float(model.d_optimizer.learning_rate), beta_1=0.5)
    optimizer.build(whole.trainable_variables + part.trainable_variables)
    # object.__setattr__: not tracked by Keras, so model.keras and the checkpoints stay as they are.
    object.__setattr__(model, "_r15", types.SimpleNamespace(features=features, whole=whole, part=part,
                                                            optimizer=optimizer))


def reconstruction_loss(model, real):
    """Per-example mean absolute error of both decoders; updates the decoders, returns the loss for D."""
    r15 = model._r15
    quadrant = model.d_optimizer.iterations % 4
    row, col = quadrant // 2, quadrant % 2
    side = real.shape[1]
    variables = r15.whole.trainable_variables + r15.part.trainable_variables
    with tf.GradientTape() as tape:
        f8, f16 = r15.features(real, training=True)
        whole = r15.whole(f8, training=True)
        fs = f16.shape[1] // 2
        crop = tf.slice(f16, tf.stack([0, row * fs, col * fs, 0]), [-1, fs, fs, f16.shape[3]])
        part = r15.part(crop, training=True)
        target_whole = tf.nn.avg_pool2d(real, 2, 2, "VALID")
        half = side // 2
        target_part = tf.slice(real, tf.stack([0, row * half, col * half, 0]), [-1, half, half, real.shape[3]])
        per_example = (tf.reduce_mean(tf.abs(tf.cast(whole, tf.float32) - target_whole), axis=[1, 2, 3])
                       + tf.reduce_mean(tf.abs(tf.cast(part, tf.float32) - target_part), axis=[1, 2, 3]))
        loss = tf.reduce_mean(per_example)
    r15.optimizer.apply(tape.gradient(loss, variables), variables)
    return RECONSTRUCTION_WEIGHT * per_example


def patch():
    compile_ = gan.GAN.compile
    penalty = gan.GAN.discriminator_penalty

    def compile_with_decoders(self, *args, **kwargs):
        compile_(self, *args, **kwargs)
        _attach_decoders(self)

    def penalty_with_reconstruction(self, real, fake, labels=None):
        others = penalty(self, real, fake, labels)
        recon = reconstruction_loss(self, real)
        return recon if others is None else recon + others

    gan.GAN.compile = compile_with_decoders
    gan.GAN.discriminator_penalty = penalty_with_reconstruction


if __name__ == "__main__":
    patch()
    sys.argv[0] = os.path.join(ROOT, "train.py")
    app.run(train.main)
