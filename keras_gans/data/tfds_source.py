"""tfds:NAME - a TensorFlow Datasets image dataset, optionally cropped, resized and converted."""

import hashlib
import json
import os
import socket

import numpy as np
import tensorflow as tf

from keras_gans.data import cache, stream
from keras_gans.errors import UserError

OFFLINE_ALTERNATIVES = (
    "offline, use --dataset=sample (embedded Fashion-MNIST), --dataset=idx:DIR (MNIST-format files, "
    "e.g. /usr/share/datasets/fashion-mnist), --dataset=folder:DIR, or a prepared TFDS directory via --data_dir"
)


def read_tfds(name, split="train", data_dir=None, download=True, image_shape=None, crop="none", background="white",
              cache_dir=None, max_memory_gb=None):
    """(images, labels or None, class names or None) of a TFDS image dataset, as numpy arrays.

    With `image_shape` (H, W, C) every image is cropped (`crop="center"`: the
    largest centred square), resized and converted to C channels, so datasets
    of any size (celeb_a's 218x178, datasets of mixed sizes) can be used.

    A split whose prepared images need more than `max_memory_gb` is streamed
    like a large folder: written once, prepared, into an uncompressed file in
    `cache_dir` (default ~/.cache/keras_gans) and read per batch from there
    (`images` is then a `stream.DiskImages`); later runs reuse the file.

    Tries the prepared data first; downloads only when allowed and the
    network answers within seconds (TFDS itself retries for minutes offline).
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise UserError(f"tfds: datasets need tensorflow-datasets ({error}): pip install tensorflow-datasets") from None
    args = (tfds, name, split, data_dir, image_shape, crop, background, cache_dir, max_memory_gb)
    try:
        return _tfds_arrays(*args, download=False)
    except UserError:
        raise
    except Exception as error:  # TFDS raises several types when the data is not prepared
        if _is_unknown_dataset(tfds, error):
            raise UserError(f"TFDS has no dataset named {name!r}: see `tfds.list_builders()` (e.g. mnist, cifar10)") from None
        where = data_dir or "the default TFDS directory (~/tensorflow_datasets)"
        if not download:
            raise UserError(f"TFDS dataset {name!r} is not prepared in {where} and downloads are off; {OFFLINE_ALTERNATIVES}") from None
        if not network_available():
            raise UserError(f"cannot download TFDS dataset {name!r}: no network; {OFFLINE_ALTERNATIVES}") from None
        return _tfds_arrays(*args, download=True)


def _is_unknown_dataset(tfds, error):
    not_found = getattr(getattr(tfds.core, "registered", None), "DatasetNotFoundError", ())
    return isinstance(error, not_found) if not_found else "not found" in str(error).lower()


def _tfds_arrays(tfds, name, split, data_dir, image_shape, crop, background, cache_dir, max_memory_gb, download):
    dataset, info = tfds.load(name, split=split, data_dir=data_dir, download=download, with_info=True)
    if "image" not in dataset.element_spec:
        raise UserError(
            f"TFDS dataset {name!r} has no 'image' feature (features: {sorted(dataset.element_spec)}); "
            "pick an image dataset"
        )
    if dataset.element_spec["image"].dtype != tf.uint8:
        raise UserError(f"TFDS dataset {name!r} images are {dataset.element_spec['image'].dtype.name}, expected uint8 images")
    keep = ["image"] + (["label"] if "label" in dataset.element_spec else [])
    dataset = dataset.map(lambda example: {key: example[key] for key in keep})
    already = image_shape is not None and tuple(dataset.element_spec["image"].shape) == tuple(image_shape)
    if (image_shape is not None and not already) or crop == "center":
        prepare = lambda image: prepare_image(image, image_shape, crop, background)  # noqa: E731
        dataset = dataset.map(lambda example: {**example, "image": prepare(example["image"])},
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    shape = tuple(dataset.element_spec["image"].shape)
    count = _split_size(dataset, info, split)
    needed = None if count is None or None in shape else count * int(np.prod(shape)) / 1e9
    if max_memory_gb is not None and needed is not None and needed > max_memory_gb:
        print(f"tfds:{name} ({split}): {count} images need {needed:.3g} GB decoded, over --max_memory_gb="
              f"{max_memory_gb:g}: streaming them from the on-disk cache instead of holding them in memory")
        images, labels = _streamed(tfds, dataset, name, split, info, shape, count, crop, background, cache_dir,
                                   "label" in keep)
    else:
        chunks = list(tfds.as_numpy(dataset.batch(8192)))
        if not chunks:
            raise UserError(f"TFDS dataset {name!r} ({split} split) holds no images")
        images = np.concatenate([chunk["image"] for chunk in chunks])
        labels = np.concatenate([chunk["label"] for chunk in chunks]) if "label" in keep else None
    names = None
    if labels is not None:
        feature = info.features["label"]
        names = list(feature.names) if getattr(feature, "names", None) else None
    return images, labels, names


def _split_size(dataset, info, split):
    """Examples in `split` (sub-splits such as "train[:10%]" included), or None if TFDS cannot say."""
    cardinality = int(dataset.cardinality())
    if cardinality >= 0:  # not tf.data.UNKNOWN_CARDINALITY / INFINITE_CARDINALITY
        return cardinality
    try:
        return int(info.splits[split].num_examples)
    except Exception:  # not recorded: the in-memory path does not need the count
        return None


def _streamed(tfds, dataset, name, split, info, shape, count, crop, background, cache_dir, with_labels):
    """(stream.DiskImages, labels or None) over the split's prepared images in the cache, written now if missing."""
    from keras_gans.data.folder import Progress

    key = hashlib.sha256(json.dumps([
        cache.CACHE_VERSION, name, split, str(info.version), os.path.realpath(info.data_dir), list(shape), crop,
        background]).encode()).hexdigest()[:32]
    path = os.path.join(cache_dir or cache.user_cache_dir(), f"tfds-{key}.npy")
    labels_path = path[:-len(".npy")] + ".labels.npy"
    if cache.find([path], count) is not None and (not with_labels or os.path.exists(labels_path)):
        labels = np.load(labels_path, allow_pickle=False) if with_labels else None
        return stream.DiskImages(path, np.arange(count)), labels
    progress = Progress(f"preparing tfds:{name} ({split}) in {path}", count)
    labels, done = [], 0
    with stream.writing_entry(path, (count, *shape), f"streaming tfds:{name}") as entry:
        for chunk in tfds.as_numpy(dataset.batch(1024)):
            images = chunk["image"][: count - done]
            entry.file.write(np.ascontiguousarray(images, np.uint8).tobytes())
            if with_labels:
                labels.append(chunk["label"][: len(images)])
            done += len(images)
            progress.update(done)
        if done != count:
            raise UserError(f"TFDS dataset {name!r} ({split} split) holds {done} images, its info says {count}: "
                            "prepare it again (tfds build --overwrite)")
        labels = np.concatenate(labels) if with_labels else None
        if with_labels:
            np.save(labels_path, labels)
        entry.good = np.ones(count, bool)
    progress.close()
    return stream.DiskImages(path, np.arange(count)), labels


def prepare_image(image, image_shape=None, crop="none", background="white"):
    """uint8 [h, w, c] (c = 1, 3 or 4) -> uint8 image_shape; the TensorFlow twin of decode.decode_file."""
    image = tf.cast(image, tf.float32)
    if image.shape[-1] in (2, 4):  # grey or colour with alpha: composite onto the background
        alpha = image[..., -1:] / 255.0
        image = image[..., :-1] * alpha + (255.0 if background == "white" else 0.0) * (1.0 - alpha)
    if crop == "center":
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        side = tf.minimum(height, width)
        image = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2, side, side)
    if image_shape is None:
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    height, width, channels = image_shape
    image = tf.image.resize(image, (height, width), method="bicubic", antialias=True)
    if channels == 1 and image.shape[-1] == 3:
        image = tf.image.rgb_to_grayscale(image)
    elif channels == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def network_available(host="storage.googleapis.com", port=443, timeout=3.0):
    """Whether TFDS's download host answers within `timeout` seconds."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False
