"""The serving signatures of a class-conditional generator (`GAN(num_classes=...)`).

Every unconditional signature gains a `label` input (int32); the outputs are
the same, plus `labels` where classes can be drawn:

  serving_default  z: float32 [None, latent_dim], label: int32 [None]
                   -> images: float32 [None, H, W, C] in [-1, 1]
  generate         num_images: int32 [], seed: int64 [], label: int32 []
                   -> images: uint8 [num_images, H, W, C], labels: int32 [num_images]
  generate_png     num_images, seed, label -> png_bytes: string [num_images], labels
  interpolate      seed_start, seed_end, steps, label -> images: uint8 [steps, H, W, C]
  class_names      (no input) -> class_names: string [num_classes]

`label = -1` (generate, generate_png) draws the classes at random with
`keras_gans.latents.class_labels` from the seed, as `model.generate(n, seed)`
does, so a seed names the same images in Python and behind TF Serving.
A label outside [0, num_classes) (or -1 where allowed) fails the request with
one line before any work. The class names are also written as
`assets.extra/class_names.txt`, one per line, in id order.
"""

import os

import numpy as np
import tensorflow as tf

from keras_gans.images import to_uint8
from keras_gans.latents import class_labels, latent_vectors
from keras_gans.serving.graph_ops import MAX_IMAGES, checked_count, checked_range, slerp

CLASS_NAMES_FILE = os.path.join("assets.extra", "class_names.txt")


def _checked_labels(labels, num_classes, allow_random):
    """`labels` after an in-graph check that each is a class id (or -1 when `allow_random`)."""
    low = -1 if allow_random else 0
    what = "-1 (random classes) or a class id" if allow_random else "a class id"
    message = f"label must be {what} in [0, {num_classes}): this model has {num_classes} classes"
    return checked_range(labels, low, num_classes - 1, message)


def build_archive(generator, latent_dim, num_classes, class_names):
    """A keras ExportArchive with the conditional signatures above."""
    import keras

    names = tf.constant([str(n) for n in class_names], tf.string)

    def sample(z, labels):
        return tf.cast(generator([z, labels], training=False), tf.float32)

    def serving_default(z, label):
        checks = [
            tf.debugging.assert_less_equal(
                tf.shape(z)[0], MAX_IMAGES, message=f"serving_default takes at most {MAX_IMAGES} rows of z: split the request"),
            tf.debugging.assert_equal(
                tf.shape(label)[0], tf.shape(z)[0], message="serving_default needs one label per row of z"),
        ]
        with tf.control_dependencies(checks):
            z = tf.identity(z)
        return {"images": sample(z, _checked_labels(label, num_classes, allow_random=False))}

    def request_labels(num_images, seed, label):
        label = _checked_labels(label, num_classes, allow_random=True)
        return tf.cond(label < 0, lambda: class_labels(num_images, num_classes, seed),
                       lambda: tf.fill([num_images], label))

    def generate(num_images, seed, label):
        num_images = checked_count(num_images, "num_images", 1)
        labels = request_labels(num_images, seed, label)
        images = to_uint8(sample(latent_vectors(num_images, latent_dim, seed), labels))
        return {"images": images, "labels": labels}

    def generate_png(num_images, seed, label):
        outputs = generate(num_images, seed, label)
        pngs = tf.map_fn(tf.io.encode_png, outputs["images"], fn_output_signature=tf.string)
        return {"png_bytes": pngs, "labels": outputs["labels"]}

    def interpolate(seed_start, seed_end, steps, label):
        steps = checked_count(steps, "steps", 2)
        label = _checked_labels(label, num_classes, allow_random=False)
        start = latent_vectors(1, latent_dim, seed_start)[0]
        end = latent_vectors(1, latent_dim, seed_end)[0]
        z = slerp(start, end, tf.linspace(0.0, 1.0, steps))
        return {"images": to_uint8(sample(z, tf.fill([steps], label)))}

    def class_names_signature():
        return {"class_names": tf.identity(names)}

    count = tf.TensorSpec([], tf.int32, name="num_images")
    seed = tf.TensorSpec([], tf.int64, name="seed")
    label = tf.TensorSpec([], tf.int32, name="label")
    archive = keras.export.ExportArchive()
    archive.add_endpoint("serving_default", serving_default, input_signature=[
        tf.TensorSpec([None, latent_dim], tf.float32, name="z"), tf.TensorSpec([None], tf.int32, name="label")])
    archive.add_endpoint("generate", generate, input_signature=[count, seed, label])
    archive.add_endpoint("generate_png", generate_png, input_signature=[count, seed, label])
    archive.add_endpoint("interpolate", interpolate, input_signature=[
        tf.TensorSpec([], tf.int64, name="seed_start"), tf.TensorSpec([], tf.int64, name="seed_end"),
        tf.TensorSpec([], tf.int32, name="steps"), label])
    archive.add_endpoint("class_names", class_names_signature, input_signature=[])
    return archive


def warmup_requests(latent_dim):
    """One small request per conditional signature (see `serving.warmup`)."""
    return [
        ("serving_default", {"z": latent_vectors(1, latent_dim, 0).numpy(), "label": np.zeros([1], np.int32)}),
        ("generate", {"num_images": np.int32(1), "seed": np.int64(0), "label": np.int32(-1)}),
        ("generate_png", {"num_images": np.int32(1), "seed": np.int64(0), "label": np.int32(0)}),
        ("interpolate", {"seed_start": np.int64(0), "seed_end": np.int64(1), "steps": np.int32(2), "label": np.int32(0)}),
        ("class_names", {}),
    ]


def write_class_names(version_dir, class_names):
    path = os.path.join(version_dir, CLASS_NAMES_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{name}\n" for name in class_names))
