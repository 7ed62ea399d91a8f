"""Folders larger than the memory budget: decoded once into the on-disk cache, then read per batch.

The first run decodes every file (in parallel, chunk by chunk, so memory stays
at one chunk) into an uncompressed .npy in the cache; training then reads only
the rows of each batch with pread. The batches are the very arrays the
in-memory mode would hold, so for one seed both modes give the same batches,
and resume stays exact (the order is still a function of seed and batch index).
Rows are read with pread rather than mmap so that pages already used do not
stay in the process's resident memory.
"""

import concurrent.futures
import contextlib
import os
import types

import numpy as np

from keras_gans.data import cache, decode
from keras_gans.errors import UserError

CHUNK = 1024  # files decoded per round: bounds the memory of the first run


class DiskImages:
    """uint8 images [N, H, W, C] kept in an .npy file; rows `rows` of it are the dataset."""

    def __init__(self, path, rows):
        self.path = path
        self.rows = np.asarray(rows, np.int64)
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, _ = read_header(f)
            self.offset = f.tell()
        self.row_shape = tuple(shape[1:])
        self.row_bytes = int(np.prod(self.row_shape))
        self.dtype = np.dtype(np.uint8)

    @property
    def shape(self):
        return (len(self.rows), *self.row_shape)

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        """Images at `index` (an int, a slice or an array of ints), read from disk."""
        if isinstance(index, (int, np.integer)):
            return self.take([index])[0]
        return self.take(np.arange(len(self))[index])

    def take(self, indices):
        indices = np.asarray(indices, np.int64).reshape(-1)
        out = np.empty((len(indices), *self.row_shape), np.uint8)
        handle = os.open(self.path, os.O_RDONLY)
        try:
            for i, row in enumerate(self.rows[indices]):
                data = os.pread(handle, self.row_bytes, self.offset + int(row) * self.row_bytes)
                out[i] = np.frombuffer(data, np.uint8).reshape(self.row_shape)
        finally:
            os.close(handle)
        return out

    def __array__(self, dtype=None, copy=None):
        array = self.take(np.arange(len(self)))  # the whole dataset: only for small uses
        return array if dtype is None else array.astype(dtype)


@contextlib.contextmanager
def writing_entry(path, shape, what):
    """A new cache entry of uint8 images of `shape` at `path`, written under a temporary name.

    Yields an object with `file` (open, just after the .npy header), `offset`
    (where row 0 starts) and `good`, which the caller sets to the mask of rows
    that hold an image before leaving the block. On a clean exit the file is
    closed and published (`cache.commit`); on any error the temporary file is
    removed and an OSError becomes a one-line UserError. `what` names the job
    in the error for a cache folder that cannot be written.
    """
    try:
        handle, temporary = cache.new_file(path)
    except OSError as error:
        raise UserError(
            f"{what} needs a writable cache for its decoded images ({error.strerror}: "
            f"{os.path.dirname(path)}): pass --cache_dir=A_WRITABLE_FOLDER"
        ) from None
    entry = types.SimpleNamespace(good=None)
    try:
        with os.fdopen(handle, "wb") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": tuple(shape)})
            entry.file, entry.offset = f, f.tell()
            yield entry
        cache.commit(temporary, path, entry.good)
    except OSError as error:
        cache.remove(temporary)
        raise UserError(f"cannot write the decoded-image cache {path}: {error.strerror}; free disk space or pass "
                        "--cache_dir") from None
    except BaseException:
        cache.remove(temporary)
        raise


def decode_to_file(files, path, size, channels, crop, background, progress=None):
    """Decodes `files` into the cache entry at `path` (bad files as zero rows); returns the good mask."""
    height, width = size
    good = np.zeros(len(files), bool)
    row_bytes = height * width * channels
    with writing_entry(path, (len(files), height, width, channels), "streaming a large folder") as entry:
        f, offset = entry.file, entry.offset
        f.truncate(offset + len(files) * row_bytes)  # a sparse file: bad files stay zero rows

        def work(i):
            try:
                image = decode.decode_file(files[i].path, size, channels, crop, background)
            except decode.BadImage:
                return
            os.pwrite(f.fileno(), image.tobytes(), offset + i * row_bytes)
            good[i] = True

        with concurrent.futures.ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 2)) as pool:
            for start in range(0, len(files), CHUNK):
                list(pool.map(work, range(start, min(start + CHUNK, len(files)))))
                if progress:
                    progress.update(min(start + CHUNK, len(files)))
        entry.good = good
    if progress:
        progress.close()
    return good
