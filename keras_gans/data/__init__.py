"""From a dataset spec to a shuffled, batched tf.data.Dataset of images in [-1, 1].

Specs:
  sample        6,000 Fashion-MNIST images shipped inside the package (offline)
  idx:DIR       MNIST-format IDX files: DIR/train-images-idx3-ubyte[.gz] (split
                "train") or DIR/t10k-images-idx3-ubyte[.gz] (split "test")
  folder:DIR    a folder (searched recursively) of image files, resized to
                `image_shape`; class sub-folders give labels
  tfds:NAME     a TensorFlow Datasets image dataset (mnist, fashion_mnist,
                cifar10, celeb_a, ...); `data_dir` points at a prepared TFDS directory

Every source is decoded once into a uint8 array held in memory, so an epoch
never decodes an image twice; normalisation to [-1, 1] happens per batch,
vectorised. A decoded folder is cached on disk (see `cache`), and one larger
than `max_memory_gb` is read from that cache batch by batch instead (see
`stream`). docs/data.md is the user's manual.

Modules: idx (IDX files), folder (image folders), decode (one image file),
cache (decoded folders on disk), stream (folders larger than memory),
tfds_source (TFDS), pipeline (batching).
"""

import dataclasses

import numpy as np

from keras_gans.data.decode import BACKGROUNDS, CROPS
from keras_gans.data.folder import IMAGE_EXTENSIONS, read_folder
from keras_gans.data.idx import SPLITS, _no_test_split, read_idx, read_idx_split, sample_dir
from keras_gans.data.pipeline import make_dataset, to_unit_range
from keras_gans.images import to_uint8  # noqa: F401  (one copy, in images.py; kept here for old imports)
from keras_gans.data.tfds_source import OFFLINE_ALTERNATIVES, network_available, read_tfds
from keras_gans.errors import UserError

DEFAULT_MAX_MEMORY_GB = 4.0

__all__ = [
    "ImageSource", "open_source", "make_dataset", "load", "class_names", "sample_dir", "read_idx",
    "read_idx_split", "read_folder", "read_tfds", "to_unit_range", "to_uint8", "network_available",
    "SPLITS", "IMAGE_EXTENSIONS", "OFFLINE_ALTERNATIVES", "CROPS", "BACKGROUNDS",
]


@dataclasses.dataclass
class ImageSource:
    """Decoded images of one dataset split, ready to batch.

    Attributes:
        name: the spec it came from.
        images: uint8 array [N, H, W, C].
        labels: int array [N], or None when the source has no labels.
        label_names: the class names, in label order, when the source knows them.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray = None
    label_names: list = None

    @property
    def image_shape(self):
        return tuple(self.images.shape[1:])

    @property
    def class_names(self):
        """Name of each label value: the known names, else "0", "1", ...; None without labels."""
        if self.labels is None:
            return None
        if self.label_names is not None:
            return list(self.label_names)
        return [str(i) for i in range(int(self.labels.max()) + 1 if len(self.labels) else 0)]

    def no_labels_message(self):
        if self.name.startswith("folder:"):
            return (f"dataset {self.name!r} has no labels: put each class's images in its own sub-folder "
                    "(DIR/cat/*.png, DIR/dog/*.png, with no images directly in DIR), or drop labels")
        return f"dataset {self.name!r} has no labels: use a labelled dataset, or drop labels"

    def __len__(self):
        return len(self.images)


# Fashion-MNIST's class names, in label order (its README).
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def open_source(spec, split="train", image_shape=None, data_dir=None, download=True, limit=None, *,
                crop=None, background="white", cache_dir=None, max_memory_gb=DEFAULT_MAX_MEMORY_GB):
    """Decodes the dataset named by `spec` into an `ImageSource`.

    Args:
        spec: "sample", "idx:DIR", "folder:DIR" or "tfds:NAME".
        split: "train" or "test".
        image_shape: (H, W, C) the model expects. Folder and TFDS images are
            cropped (see `crop`), resized and converted to it; IDX data must
            already have it.
        data_dir: TFDS data directory (tfds: only).
        download: whether TFDS may download a dataset that is not prepared.
        limit: keep only the first `limit` images (tests, quick looks); a
            folder decodes only its first `limit` files.
        crop: None or "none": resize the whole image (today's behaviour);
            "center": take the largest centred square first (faces, CelebA).
        background: "white" (default) or "black": what transparent pixels
            become. White, because transparent images (icons, emoji, sprites)
            are drawn to be shown on a light page.
        cache_dir: where a decoded folder is cached; None: beside the data,
            or ~/.cache/keras_gans when the data folder is read-only. Also
            where a streamed TFDS split is kept (None: ~/.cache/keras_gans).
        max_memory_gb: a folder or TFDS split whose decoded images need more
            (GB) is not held in memory but streamed: decoded once into an
            on-disk cache and read batch by batch (same batches, see
            `stream`). None: no limit.
    """
    spec = str(spec)
    kind, _, arg = spec.partition(":")
    crop = _check_choice("crop", "none" if crop is None else str(crop).lower(), CROPS)
    background = _check_choice("background", str(background).lower(), BACKGROUNDS)
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}: use one of {sorted(SPLITS)}")
    names = None
    if kind == "sample" and not arg:
        images, labels = read_idx_split(sample_dir(), split) if split == "train" else _no_test_split(spec)
        names = FASHION_MNIST_CLASSES  # the sample is Fashion-MNIST's first 6,000 training images
    elif kind == "idx" and arg:
        images, labels = read_idx_split(arg, split)
    elif kind == "folder" and arg:
        images, labels, names = read_folder(arg, image_shape, crop=crop, background=background,
                                            cache_dir=cache_dir, limit=limit,
                                            max_memory_gb=max_memory_gb)
    elif kind == "tfds" and arg:
        images, labels, names = read_tfds(arg, split, data_dir, download, image_shape=image_shape, crop=crop,
                                          background=background, cache_dir=cache_dir, max_memory_gb=max_memory_gb)
    else:
        raise UserError(
            f"unknown dataset spec {spec!r}: use sample, idx:DIR, folder:DIR or tfds:NAME "
            "(e.g. --dataset=tfds:mnist)"
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if limit is not None and len(images) > limit:
        images = images[:limit]
        labels = None if labels is None else labels[:limit]
    if len(images) == 0:
        raise UserError(f"dataset {spec!r} ({split} split) holds no images: point it at a non-empty dataset")
    if image_shape is not None and tuple(images.shape[1:]) != tuple(image_shape):
        raise UserError(
            f"dataset {spec!r} has images of shape {tuple(images.shape[1:])} but the model expects "
            f"{tuple(image_shape)}: drop --image_size/--channels to use the dataset's shape, or use folder:DIR "
            "or tfds:NAME data, which are resized"
        )
    return ImageSource(spec, images, labels, names)


def load(spec, batch_size, split="train", image_shape=None, data_dir=None, shuffle=True, seed=None,
         download=True, limit=None, drop_remainder=True, *, labels=False, **source_options):
    """One call from a spec to a batched dataset; see `open_source` and `make_dataset`.

    With `labels=True` the batches are (images, int32 labels) pairs.
    `source_options` are open_source's keyword-only options (crop, background, ...).

    Example:
        dataset = keras_gans.data.load("idx:../shared/data/fashion-mnist", batch_size=256)
    """
    source = open_source(spec, split=split, image_shape=image_shape, data_dir=data_dir, download=download,
                         limit=limit, **source_options)
    return make_dataset(source, batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder, labels=labels)


def class_names(spec, split="train", **source_options):
    """The class names of a dataset, in label order (label i is names[i]).

    Raises UserError when the dataset has no labels (e.g. a flat folder).
    """
    source = open_source(spec, split=split, **source_options)
    if source.labels is None:
        raise UserError(source.no_labels_message())
    return source.class_names


def _check_choice(what, value, choices):
    if value not in choices:
        raise UserError(f"unknown {what} {value!r}: use one of {', '.join(choices)} (--{what}=...)")
    return value
