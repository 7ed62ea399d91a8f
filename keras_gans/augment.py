"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

With few training images the discriminator memorises them and the generator
stops learning. DiffAugment applies the SAME kind of random, differentiable
transformation to real and fake images just before the discriminator (in
both the discriminator's and the generator's update), so D never sees an
un-augmented image and G still gets gradients through the augmentation. The
ops follow the authors' TensorFlow code, on images in [-1, 1]:

  color        brightness + U(-0.5, 0.5); saturation x U(0, 2) around the
               pixel's channel mean; contrast x U(0.5, 1.5) around the image mean
  translation  shift by up to 1/8 of the side in each direction, zero fill
  cutout       zero a square of half the side at a random centre

All randomness comes in as `uniforms`, a [B, NUM_UNIFORMS] tensor in [0, 1)
(one row per image), so the model can draw it from its seeded, replica-aware
training noise: runs stay deterministic and resumable.
"""

import tensorflow as tf

from keras_gans.errors import UserError

OPS = ("color", "translation", "cutout")
# Columns of `uniforms`: brightness, saturation, contrast, shift_y, shift_x, cutout_y, cutout_x.
NUM_UNIFORMS = 7
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(policy):
    """"color,translation" -> ("color", "translation"); "" -> (). Unknown names are a UserError."""
    if isinstance(policy, (list, tuple)):
        names = [str(name).strip() for name in policy]
    else:
        names = [name.strip() for name in str(policy or "").split(",")]
    names = tuple(name for name in names if name)
    unknown = [name for name in names if name not in OPS]
    if unknown:
        raise UserError(f"diffaugment: unknown op(s) {', '.join(unknown)}; use a comma list of {', '.join(OPS)}")
    return names


def diff_augment(images, policy, uniforms):
    """Applies the ops of `policy` (in the fixed order color, translation, cutout) to [B, H, W, C] images."""
    ops = parse_policy(policy)
    uniforms = tf.cast(uniforms, images.dtype)
    if "color" in ops:
        images = color(images, uniforms[:, 0], uniforms[:, 1], uniforms[:, 2])
    if "translation" in ops:
        images = translation(images, uniforms[:, 3], uniforms[:, 4])
    if "cutout" in ops:
        images = cutout(images, uniforms[:, 5], uniforms[:, 6])
    return images


def _per_image(values):
    return tf.reshape(values, [-1, 1, 1, 1])


def color(images, u_brightness, u_saturation, u_contrast):
    """Random brightness, then saturation, then contrast; each u is [B] in [0, 1)."""
    images = images + _per_image(u_brightness - 0.5)
    mean = tf.reduce_mean(images, axis=3, keepdims=True)
    images = (images - mean) * _per_image(u_saturation * 2.0) + mean
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _per_image(u_contrast + 0.5) + mean


def _shift_pixels(u, side):
    """Integer shifts in [-s, s], s = round(side * TRANSLATION_RATIO), from u in [0, 1)."""
    s = int(side * TRANSLATION_RATIO + 0.5)
    return tf.cast(tf.floor(tf.cast(u, tf.float32) * (2 * s + 1)), tf.int32) - s


def translation(images, u_y, u_x):
    """Moves each image by whole pixels (down/right for positive shifts), filling with zeros."""
    height, width = images.shape[1], images.shape[2]
    return shift(images, _shift_pixels(u_y, height), _shift_pixels(u_x, width))


def shift(images, dy, dx):
    """Output pixel (r, c) is input pixel (r - dy, c - dx), or 0 outside the image. dy, dx: [B] int32."""
    height, width = images.shape[1], images.shape[2]
    rows = tf.range(height)[None, :] - dy[:, None]  # [B, H]: source row of each output row
    cols = tf.range(width)[None, :] - dx[:, None]
    # A gather (differentiable in the images) from clipped indices, then a mask for the zero fill.
    moved = tf.gather(images, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
    moved = tf.gather(moved, tf.clip_by_value(cols, 0, width - 1), axis=2, batch_dims=1)
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    return moved * tf.cast(inside, images.dtype)[..., None]


def _cutout_start(u, side, size):
    # The authors' offset is U{0 .. side + (1 - size % 2) - 1}, the square's centre; start = centre - size // 2.
    centre = tf.cast(tf.floor(tf.cast(u, tf.float32) * (side + (1 - size % 2))), tf.int32)
    return centre - size // 2


def cutout(images, u_y, u_x):
    """Zeroes a square of side round(CUTOUT_RATIO * side) per image (clipped at the border)."""
    height, width = images.shape[1], images.shape[2]
    size_y, size_x = int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)
    return cut_square(images, _cutout_start(u_y, height, size_y), _cutout_start(u_x, width, size_x), size_y, size_x)


def cut_square(images, top, left, size_y, size_x):
    """Zeroes rows [top, top + size_y) x columns [left, left + size_x) of each image; top, left: [B] int32."""
    rows = tf.range(images.shape[1])[None, :]
    cols = tf.range(images.shape[2])[None, :]
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size_y)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size_x)
    cut = in_rows[:, :, None] & in_cols[:, None, :]
    return images * tf.cast(~cut, images.dtype)[..., None]
