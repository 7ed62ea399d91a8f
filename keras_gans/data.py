"""From a dataset spec to a shuffled, batched tf.data.Dataset of images in [-1, 1].

Specs:
  sample        6,000 Fashion-MNIST images shipped inside the package (offline)
  idx:DIR       MNIST-format IDX files: DIR/train-images-idx3-ubyte[.gz] (split
                "train") or DIR/t10k-images-idx3-ubyte[.gz] (split "test")
  folder:DIR    a folder (searched recursively) of PNG/JPEG/BMP/GIF images,
                resized to `image_shape`
  tfds:NAME     a TensorFlow Datasets image dataset (mnist, fashion_mnist,
                cifar10, ...); `data_dir` points at a prepared TFDS directory

Every source is decoded once into a uint8 array held in memory (the datasets
these models are made for are tens of MB), so an epoch never decodes an image
twice; normalisation to [-1, 1] happens per batch, vectorised.
"""

import dataclasses
import glob
import gzip
import os
import socket
import struct
from importlib import resources

import numpy as np
import tensorflow as tf

from keras_gans.errors import UserError

SPLITS = {"train": "train", "test": "t10k"}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
OFFLINE_ALTERNATIVES = (
    "offline, use --dataset=sample (embedded Fashion-MNIST), --dataset=idx:DIR (MNIST-format files, "
    "e.g. /usr/share/datasets/fashion-mnist), --dataset=folder:DIR, or a prepared TFDS directory via --data_dir"
)


@dataclasses.dataclass
class ImageSource:
    """Decoded images of one dataset split, ready to batch.

    Attributes:
        name: the spec it came from.
        images: uint8 array [N, H, W, C].
        labels: int array [N], or None when the source has no labels.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray = None

    @property
    def image_shape(self):
        return tuple(self.images.shape[1:])

    def __len__(self):
        return len(self.images)


def sample_dir():
    """Folder of the embedded Fashion-MNIST sample (IDX files)."""
    return str(resources.files("keras_gans") / "resources" / "fashion_mnist_sample")


def open_source(spec, split="train", image_shape=None, data_dir=None, download=True, limit=None):
    """Decodes the dataset named by `spec` into an `ImageSource`.

    Args:
        spec: "sample", "idx:DIR", "folder:DIR" or "tfds:NAME".
        split: "train" or "test".
        image_shape: (H, W, C) the model expects. Folder images are resized
            and converted to it; other sources must already have it.
        data_dir: TFDS data directory (tfds: only).
        download: whether TFDS may download a dataset that is not prepared.
        limit: keep only the first `limit` images (tests, quick looks).
    """
    spec = str(spec)
    kind, _, arg = spec.partition(":")
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}: use one of {sorted(SPLITS)}")
    if kind == "sample" and not arg:
        images, labels = read_idx_split(sample_dir(), split) if split == "train" else _no_test_split(spec)
    elif kind == "idx" and arg:
        images, labels = read_idx_split(arg, split)
    elif kind == "folder" and arg:
        images, labels = read_folder(arg, image_shape), None
    elif kind == "tfds" and arg:
        images, labels = read_tfds(arg, split, data_dir, download)
    else:
        raise UserError(
            f"unknown dataset spec {spec!r}: use sample, idx:DIR, folder:DIR or tfds:NAME "
            "(e.g. --dataset=tfds:mnist)"
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if limit is not None:
        images = images[:limit]
        labels = None if labels is None else labels[:limit]
    if len(images) == 0:
        raise UserError(f"dataset {spec!r} ({split} split) holds no images: point it at a non-empty dataset")
    if image_shape is not None and tuple(images.shape[1:]) != tuple(image_shape):
        raise UserError(
            f"dataset {spec!r} has images of shape {tuple(images.shape[1:])} but the model expects "
            f"{tuple(image_shape)}: drop --image_size/--channels to use the dataset's shape, or use folder:DIR "
            "data, which is resized"
        )
    return ImageSource(spec, images, labels)


def make_dataset(source, batch_size, shuffle=True, seed=None, drop_remainder=True, repeat=False, start_batch=0):
    """Batches an `ImageSource` into float32 [B, H, W, C] tensors in [-1, 1].

    Shuffling is over the whole dataset and reshuffled every pass; with a
    `seed` the order is reproducible. Full batches only by default: a ragged
    last batch would retrace the compiled train step and skew BatchNorm.

    With `repeat`, the stream is endless and pass p is ordered by a stateless
    shuffle of (seed, p) alone, so it is the same stream in every process
    (tf.data's own reshuffling restarts its sequence in a new process), and
    batches run on across pass boundaries. `start_batch` then starts the
    stream at that batch, exactly: this is how a resumed run picks up its
    data where the interrupted one stopped, at no cost.

    Args:
        source: an `ImageSource`.
        batch_size: images per batch.
        shuffle: shuffle the images (every pass anew).
        seed: seed of the order; None for a random one.
        drop_remainder: drop a last batch smaller than `batch_size` (each pass
            without `repeat`; only in `start_batch` arithmetic with it).
        repeat: an endless stream of passes.
        start_batch: with `repeat`, the index of the first batch to yield.
    """
    batch_size = int(batch_size)
    start_batch = int(start_batch)
    if batch_size <= 0:
        raise UserError(f"batch size must be positive, got {batch_size}")
    if drop_remainder and batch_size > len(source):
        raise UserError(
            f"batch size {batch_size} is larger than the dataset {source.name!r} ({len(source)} images): "
            "lower --batch_size"
        )
    if start_batch < 0:
        raise ValueError(f"start_batch must be >= 0, got {start_batch}")
    if start_batch and not repeat:
        raise ValueError("start_batch needs repeat=True: only the endless stream has a position to resume")
    if repeat:
        dataset = _endless_indices(len(source), batch_size, shuffle, seed, start_batch)
        images = tf.constant(source.images)
        dataset = dataset.map(lambda index: tf.gather(images, index), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        dataset = tf.data.Dataset.from_tensor_slices(source.images)
        if shuffle:
            dataset = dataset.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    dataset = dataset.map(to_unit_range, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _endless_indices(size, batch_size, shuffle, seed, start_batch):
    """Batches of image indices: passes ordered by (seed, pass), from batch `start_batch` on.

    Batching indices, not images, keeps the dataset light, and jumping to a
    batch is arithmetic: the pass it falls in, then the offset inside it.
    """
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    first = start_batch * batch_size
    first_pass, offset = divmod(first, size)

    def one_pass(p):
        indices = tf.range(size, dtype=tf.int64)
        if shuffle:
            indices = tf.random.experimental.stateless_shuffle(indices, seed=tf.stack([tf.constant(seed, tf.int64), p]))
        return tf.data.Dataset.from_tensor_slices(indices)

    passes = tf.data.Dataset.range(first_pass, np.iinfo(np.int64).max)
    return passes.flat_map(one_pass).skip(offset).batch(batch_size, drop_remainder=True)


def to_unit_range(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255] numpy array (clipped, rounded)."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load(spec, batch_size, split="train", image_shape=None, data_dir=None, shuffle=True, seed=None,
         download=True, limit=None, drop_remainder=True):
    """One call from a spec to a batched dataset; see `open_source` and `make_dataset`.

    Example:
        dataset = keras_gans.data.load("idx:../shared/data/fashion-mnist", batch_size=256)
    """
    source = open_source(spec, split=split, image_shape=image_shape, data_dir=data_dir, download=download, limit=limit)
    return make_dataset(source, batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder)


# --- IDX (MNIST format) --------------------------------------------------------

def read_idx(path):
    """Reads one IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise UserError(f"cannot read IDX file {path}: {error}; re-download or re-copy it") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise UserError(f"{path} is not an unsigned-byte IDX file (bad magic number); is it an MNIST-format file?")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    expected = int(np.prod(dims)) if dims else 0
    if len(data) - header != expected:
        raise UserError(
            f"{path} is truncated or corrupt: header says {dims} ({expected} bytes), file has {len(data) - header}"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def _find_idx(directory, prefix, kind):
    """DIR/{prefix}-{kind}-idx{3|1}-ubyte, gzipped or not, or None."""
    name = f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    return None


def read_idx_split(directory, split="train"):
    """Images [N, 28, 28] and labels [N] (or None) of one split of an IDX folder."""
    if not os.path.isdir(directory):
        raise UserError(f"IDX data directory {directory!r} does not exist: check the path after 'idx:'")
    prefix = SPLITS[split]
    images_path = _find_idx(directory, prefix, "images")
    if images_path is None:
        present = sorted(p for p in os.listdir(directory) if "idx" in p)
        other = [s for s, p in SPLITS.items() if s != split and _find_idx(directory, p, "images")]
        hint = f"; it has the {other[0]} split: pass --split={other[0]}" if other else ""
        raise UserError(
            f"no {prefix}-images-idx3-ubyte[.gz] in {directory} (found: {', '.join(present) or 'no IDX files'}){hint}"
        )
    images = read_idx(images_path)
    if images.ndim != 3:
        raise UserError(f"{images_path} holds an array of shape {images.shape}, expected [N, height, width]")
    labels_path = _find_idx(directory, prefix, "labels")
    labels = read_idx(labels_path) if labels_path else None
    if labels is not None and len(labels) != len(images):
        labels = None
    return images, labels


def _no_test_split(spec):
    raise UserError(f"dataset {spec!r} has only a train split: drop --split=test")


# --- a folder of image files ------------------------------------------------------

def read_folder(directory, image_shape=None):
    """Decodes every image under `directory`, resized to image_shape's (H, W) and channels.

    Without `image_shape`, the first image's size and 1 or 3 channels are used.
    """
    from PIL import Image, UnidentifiedImageError

    if not os.path.isdir(directory):
        raise UserError(f"image folder {directory!r} does not exist: check the path after 'folder:'")
    paths = sorted(
        p for p in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
        if p.lower().endswith(IMAGE_EXTENSIONS)
    )
    if not paths:
        raise UserError(
            f"image folder {directory!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}): add some or fix the path"
        )
    if image_shape is None:
        with Image.open(paths[0]) as first:
            channels = 1 if first.mode in ("1", "L", "I", "F", "LA") else 3
            image_shape = (first.height, first.width, channels)
    height, width, channels = image_shape
    if channels not in (1, 3):
        raise UserError(f"folder images can be loaded with 1 or 3 channels, not {channels}")
    images = np.empty((len(paths), height, width, channels), np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                image = image.convert("L" if channels == 1 else "RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BICUBIC)
                array = np.asarray(image, np.uint8)
        except (UnidentifiedImageError, OSError) as error:
            raise UserError(f"cannot decode image {path}: {error}; remove or replace the file") from None
        images[i] = array.reshape(height, width, channels)
    return images


# --- TensorFlow Datasets ---------------------------------------------------------

def read_tfds(name, split="train", data_dir=None, download=True):
    """Images and labels of a TFDS image dataset, as numpy arrays.

    Tries the prepared data first; downloads only when allowed and the
    network answers within seconds (TFDS itself retries for minutes offline).
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise UserError(f"tfds: datasets need tensorflow-datasets ({error}): pip install tensorflow-datasets") from None
    try:
        data = _tfds_arrays(tfds, name, split, data_dir, download=False)
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
        data = _tfds_arrays(tfds, name, split, data_dir, download=True)
    return data


def _is_unknown_dataset(tfds, error):
    not_found = getattr(getattr(tfds.core, "registered", None), "DatasetNotFoundError", ())
    return isinstance(error, not_found) if not_found else "not found" in str(error).lower()


def _tfds_arrays(tfds, name, split, data_dir, download):
    dataset = tfds.load(name, split=split, data_dir=data_dir, download=download)
    if "image" not in dataset.element_spec:
        raise UserError(
            f"TFDS dataset {name!r} has no 'image' feature (features: {sorted(dataset.element_spec)}); "
            "pick an image dataset"
        )
    keep = ["image"] + (["label"] if "label" in dataset.element_spec else [])
    dataset = dataset.map(lambda example: {key: example[key] for key in keep})
    chunks = list(tfds.as_numpy(dataset.batch(8192)))
    if not chunks:
        raise UserError(f"TFDS dataset {name!r} ({split} split) holds no images")
    images = np.concatenate([chunk["image"] for chunk in chunks])
    if images.dtype != np.uint8:
        raise UserError(f"TFDS dataset {name!r} images are {images.dtype}, expected uint8 images")
    labels = np.concatenate([chunk["label"] for chunk in chunks]) if "label" in keep else None
    return images, labels


def network_available(host="storage.googleapis.com", port=443, timeout=3.0):
    """Whether TFDS's download host answers within `timeout` seconds."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False
