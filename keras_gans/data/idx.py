"""idx:DIR and the embedded sample: MNIST-format IDX files."""

import gzip
import os
import struct
from importlib import resources

import numpy as np

from keras_gans.errors import UserError

SPLITS = {"train": "train", "test": "t10k"}


def sample_dir():
    """Folder of the embedded Fashion-MNIST sample (IDX files)."""
    return str(resources.files("keras_gans") / "resources" / "fashion_mnist_sample")


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
