"""A decoded folder kept on disk, so a second run skips the decoding.

An entry is two uncompressed .npy files: `folder-KEY.npy`, the images of
every listed file in order (a file that failed to decode is a zero row), and
`folder-KEY.good.npy`, which files decoded. The in-memory mode loads it whole
(a plain file read: about a second per GB); the streaming mode reads rows of
it per batch (`stream.DiskImages`). Both modes share entries.

The key hashes everything the result depends on: each file's path, size and
modification time, and the decode options. A changed, added or removed file
or another option gives another key, so a stale cache is never read.
The images are written to a temporary name and renamed last, so a killed run
leaves no entry that looks complete.
"""

import hashlib
import json
import os
import tempfile

import numpy as np

CACHE_VERSION = 2  # 2: JPEGs turned upright by their EXIF orientation
CACHE_FOLDER = ".keras_gans_cache"  # a dot-folder: the folder scan ignores it


def user_cache_dir():
    """~/.cache/keras_gans (or $XDG_CACHE_HOME/keras_gans)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_gans")


def cache_key(root, files, options):
    """Hex digest over (version, root, [(relative path, size, mtime)], options)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([CACHE_VERSION, os.path.realpath(root), sorted(options.items())]).encode())
    for entry in files:
        digest.update(f"\0{entry.relpath}\0{entry.size}\0{entry.mtime_ns}".encode())
    return digest.hexdigest()[:32]


def candidate_paths(root, key, cache_dir=None):
    """Where the entry's images may live, in order: `cache_dir`, or beside the data then the user cache."""
    name = f"folder-{key}.npy"
    if cache_dir:
        return [os.path.join(cache_dir, name)]
    return [os.path.join(root, CACHE_FOLDER, name), os.path.join(user_cache_dir(), name)]


def good_path(path):
    """The file beside an entry's images holding which files decoded."""
    return path[:-len(".npy")] + ".good.npy"


def find(paths, count):
    """(path, good mask) of the first complete entry for `count` files, or None."""
    for path in paths:
        try:
            good = np.load(good_path(path), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            continue  # missing or damaged: try the next place, or decode again
        if len(good) == count and good.dtype == bool and os.path.exists(path):
            return path, good
    return None


def read(paths, count):
    """(images [count, H, W, C], good mask) of the first complete entry, or None."""
    found = find(paths, count)
    if found is None:
        return None
    try:
        images = np.load(found[0], allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return (images, found[1]) if len(images) == count else None


def new_file(path):
    """A temporary file (handle, name) beside `path`, to be completed by `commit`."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    return tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npy")


def commit(temporary, path, good):
    """Publishes a finished images file: its mask first, then the images under their name."""
    os.chmod(temporary, 0o644)  # mkstemp makes it private; others sharing the data may reuse it
    np.save(good_path(path), good)
    os.replace(temporary, path)


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write(paths, images, good):
    """Writes an entry to the first writable place; returns its path, or None.

    A read-only data folder falls back to the user cache without a word:
    the cache only saves time, so failing to write it must not stop a run.
    """
    for path in paths:
        try:
            handle, temporary = new_file(path)
        except OSError:
            continue
        try:
            with os.fdopen(handle, "wb") as f:
                np.save(f, images)
            commit(temporary, path, good)
            return path
        except OSError:
            remove(temporary)
    return None
