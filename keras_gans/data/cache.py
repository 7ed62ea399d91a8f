"""A decoded folder kept as one .npz file, so a second run skips the decoding.

The key hashes everything the result depends on: each file's path, size and
modification time, and the decode options. A changed, added or removed file
or another option gives another key, so a stale cache is never read.
Entries are written to a temporary name and renamed, so a killed run leaves
no half-written cache behind.
"""

import hashlib
import json
import os
import tempfile

import numpy as np

CACHE_VERSION = 1
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
    """Where the cache entry may live, in order: `cache_dir`, or beside the data then the user cache."""
    name = f"folder-{key}.npz"
    if cache_dir:
        return [os.path.join(cache_dir, name)]
    return [os.path.join(root, CACHE_FOLDER, name), os.path.join(user_cache_dir(), name)]


def read(paths):
    """The cached arrays (a dict) from the first readable path, or None."""
    for path in paths:
        try:
            with np.load(path, allow_pickle=False) as entry:
                return {name: entry[name] for name in entry.files}
        except (OSError, ValueError, EOFError, KeyError):
            continue  # missing or damaged: try the next place, or decode again
    return None


def write(paths, arrays):
    """Writes the arrays to the first writable path; returns it, or None.

    A read-only data folder falls back to the user cache without a word:
    the cache only saves time, so failing to write it must not stop a run.
    """
    for path in paths:
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
        except OSError:
            continue
        try:
            with os.fdopen(handle, "wb") as f:
                np.savez(f, **arrays)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; others sharing the data may reuse it
            os.replace(temporary, path)
            return path
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return None
