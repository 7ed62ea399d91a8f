"""folder:DIR - a folder of image files, decoded in parallel and cached.

Files are found recursively in sorted order of their path (the order, and so
the training order for a given seed, is the same on every run). Names
starting with a dot are ignored (caches, macOS "._x.png" resource files).
Symlinked folders are followed, but never into a loop nor to an ancestor of
DIR, and each real file is read once.
"""

import collections
import concurrent.futures
import itertools
import os
import sys
import time

import numpy as np

from keras_gans.data import cache, decode, stream
from keras_gans.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
PROGRESS_MIN_IMAGES = 1000  # smaller folders decode in about a second: no progress line
WARN_FIRST = 5  # bad files named in the warning

FileEntry = collections.namedtuple("FileEntry", "path relpath size mtime_ns")


def list_images(root, unreadable=None):
    """Image files under `root` as sorted `FileEntry`s, following symlinks safely.

    `unreadable`, a list, receives (relative path, reason) for each folder that
    cannot be listed ("" for `root` itself) and each image-named entry that cannot
    be reached (a dangling or looping link); they are left out.

    Plain folders and files are taken first; symlinked ones afterwards, in
    sorted order, and only when they lead somewhere not already taken. So
    each real file is listed once, under its plain path when it has one, and
    the result does not depend on the order the file system lists entries in.
    """
    root_real = os.path.realpath(root)
    seen_dirs, seen_files, found = set(), set(), []
    linked_dirs, linked_files = [], []
    pending = [(root, "")]
    while pending or linked_dirs:
        if not pending:  # the plain tree is done: now the symlinked folders
            linked_dirs.sort(key=lambda item: item[1])
            pending.append(linked_dirs.pop(0))
        directory, relative = pending.pop()
        real = os.path.realpath(directory)
        # A link back to DIR or above it (`self -> .`, `up -> ..`) would loop or
        # escape the dataset; a folder reached twice would count its files twice.
        if real in seen_dirs or (relative and (root_real == real or root_real.startswith(real + os.sep))):
            continue
        seen_dirs.add(real)
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            if unreadable is not None:
                unreadable.append((relative + os.sep if relative else "", error.strerror or type(error).__name__))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = os.path.join(relative, entry.name) if relative else entry.name
            try:
                link = entry.is_symlink()
                if entry.is_dir():  # follows symlinks
                    (linked_dirs if link else pending).append((entry.path, rel))
                elif entry.name.lower().endswith(IMAGE_EXTENSIONS):
                    stat = entry.stat()
                    item = FileEntry(entry.path, rel, stat.st_size, stat.st_mtime_ns)
                    if link:
                        linked_files.append(item)
                    else:  # no syscall needed for its real path: seconds saved on 100,000 files
                        seen_files.add(os.path.join(real, entry.name))
                        found.append(item)
            except OSError as error:  # a dangling or looping link
                if unreadable is not None and entry.name.lower().endswith(IMAGE_EXTENSIONS):
                    unreadable.append((rel, error.strerror or type(error).__name__))
                continue
    for item in sorted(linked_files, key=lambda e: e.relpath):
        real_file = os.path.realpath(item.path)
        if real_file not in seen_files:
            seen_files.add(real_file)
            found.append(item)
    return sorted(found, key=lambda e: e.relpath)


def class_labels(files):
    """(labels int32 [N], class names) when every image sits in a sub-folder; else (None, None).

    The first folder level under DIR names the class, sorted by name (the
    torchvision ImageFolder / keras image_dataset_from_directory convention).
    """
    tops = [e.relpath.split(os.sep, 1)[0] if os.sep in e.relpath else None for e in files]
    if not tops or None in tops:
        return None, None
    names = sorted(set(tops))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[t] for t in tops], np.int32), names


def read_folder(directory, image_shape=None, crop="none", background="white", cache_dir=None, limit=None,
                max_memory_gb=None):
    """Decodes the images under `directory`; returns (images, labels, class_names).

    Args:
        directory: the folder.
        image_shape: (H, W, C); None: the first decodable image's size (its
            centred square's with crop="center"), and 1 channel if it is grey, else 3.
        crop: "none" or "center" (see `decode.decode_file`).
        background: "white" or "black" behind transparent pixels.
        cache_dir: where the decoded array is cached; None: in DIR/.keras_gans_cache,
            or ~/.cache/keras_gans when DIR is read-only.
        limit: decode only the first `limit` files (in sorted order).
        max_memory_gb: a folder whose decoded images need more is streamed from
            an on-disk cache (`stream.DiskImages`) instead of held in memory.
    """
    if not os.path.exists(directory):
        raise UserError(f"image folder {directory!r} does not exist: check the path after 'folder:'")
    if not os.path.isdir(directory):
        raise UserError(f"{directory!r} is a file, not a folder: give the folder that holds the images after 'folder:'")
    unreadable = []
    files = list_images(directory, unreadable)
    if unreadable and unreadable[0][0] == "":
        raise UserError(f"image folder {directory!r} cannot be read ({unreadable[0][1]}): check its permissions")
    if unreadable:
        _warn_unreadable(directory, unreadable)
    if limit is not None:
        files = files[:limit]
    if not files:
        raise UserError(
            f"image folder {directory!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}): add some or fix the path"
        )
    if image_shape is None:
        first = _first_decodable(files)
        if first is None:
            raise _nothing_decodable(directory, files)
        height, width = decode.size_of(first.path)
        if crop == "center":
            height = width = min(height, width)
        image_shape = (height, width, decode.channels_of(first.path))
    height, width, channels = image_shape
    if channels not in (1, 3):
        raise UserError(f"folder images can be loaded with 1 or 3 channels, not {channels}: use --channels=1 or 3")
    if not (isinstance(height, (int, np.integer)) and isinstance(width, (int, np.integer)) and height > 0 and width > 0):
        raise UserError(f"folder images need a positive whole height and width, got {height}x{width}: "
                        "use e.g. image_shape=(64, 64, 3) (--image_size=64)")
    options = dict(height=height, width=width, channels=channels, crop=crop, background=background)
    places = cache.candidate_paths(directory, cache.cache_key(directory, files, options), cache_dir)
    needed = len(files) * height * width * channels / 1e9
    if max_memory_gb is not None and needed > max_memory_gb:
        print(f"{directory}: {len(files)} images need {needed:.3g} GB decoded, over --max_memory_gb={max_memory_gb:g}: "
              "streaming them from the on-disk cache instead of holding them in memory")
        images, good = _streamed(files, places, (height, width), channels, crop, background, directory)
    else:
        stored = cache.read(places, len(files))
        if stored is not None:
            images, good = stored
        else:
            images, good = decode_all(files, (height, width), channels, crop, background, directory)
            cache.write(places, images, good)
        images = images if good.all() else images[good]
    if not good.any():
        raise _nothing_decodable(directory, files)
    bad = [files[i] for i in np.flatnonzero(~good)]
    if bad:
        _warn_skipped(directory, bad)
    kept = [f for f, ok in zip(files, good) if ok]
    labels, names = class_labels(kept)
    return images, labels, names


def _streamed(files, places, size, channels, crop, background, directory):
    """A `stream.DiskImages` over the decoded cache (made now if missing) and the good mask."""
    found = cache.find(places, len(files))
    if found is not None:
        return stream.DiskImages(found[0], np.flatnonzero(found[1])), found[1]
    error = None
    for place in places:  # beside the data, else the user cache
        progress = Progress(f"decoding {directory} to {place}", len(files))
        try:
            good = stream.decode_to_file(files, place, size, channels, crop, background, progress)
        except UserError as failure:
            error = failure
            continue
        return stream.DiskImages(place, np.flatnonzero(good)), good
    raise error


def decode_all(files, size, channels, crop, background, directory):
    """uint8 [N, H, W, C] (zero rows for bad files) and a bool mask [N] of the files that decoded.

    Threads decode in parallel: PIL releases the GIL while decoding and resizing.
    """
    images = np.empty((len(files), *size, channels), np.uint8)
    good = np.zeros(len(files), bool)

    def work(i):
        try:
            images[i] = decode.decode_file(files[i].path, size, channels, crop, background)
            good[i] = True
        except decode.BadImage:
            pass

    progress = Progress(f"decoding {directory}", len(files)) if len(files) >= PROGRESS_MIN_IMAGES else None
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 2)) as pool:
        # In chunks: submitting 100,000 tasks at once takes seconds before the first result.
        for start in range(0, len(files), stream.CHUNK):
            list(pool.map(work, range(start, min(start + stream.CHUNK, len(files)))))
            if progress:
                progress.update(min(start + stream.CHUNK, len(files)))
    if progress:
        progress.close()
    return images, good


class Progress:
    """One line on stderr: images done, images/s, time left (rewritten in place on a terminal)."""

    def __init__(self, what, total, every_s=None):
        self.what, self.total, self.start = what, total, time.monotonic()
        self.tty = sys.stderr.isatty()
        self.every_s = every_s or (0.5 if self.tty else 10.0)
        self.last = self.start

    def update(self, done, force=False):
        now = time.monotonic()
        if not force and now - self.last < self.every_s:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        left = f"{(self.total - done) / rate:.0f} s left" if done else "time left unknown yet"
        line = f"{self.what}: {done}/{self.total} images, {rate:.0f} images/s, {left}"
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def close(self):
        self.update(self.total, force=True)
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _first_decodable(files):
    for entry in files:
        try:
            decode.decode_file(entry.path, (1, 1), 1)
            return entry
        except decode.BadImage:
            continue
    return None


def _nothing_decodable(directory, files):
    return UserError(
        f"image folder {directory!r} holds {len(files)} image file(s) but none can be decoded "
        f"(e.g. {files[0].relpath}): replace them with PNG/JPEG images"
    )


def _first_few(count, reasons):
    """"a (why), b (why) and N more": the first WARN_FIRST of `count` (path, reason) pairs, named."""
    shown = ", ".join(f"{path} ({why})" for path, why in itertools.islice(reasons, WARN_FIRST))
    return shown + (f" and {count - WARN_FIRST} more" if count > WARN_FIRST else "")


def _warn_skipped(directory, bad):
    """One line: how many files were skipped, and the first few with the reason."""
    named = _first_few(len(bad), ((entry.relpath, _why(entry)) for entry in bad))
    sys.stderr.write(f"warning: skipped {len(bad)} file(s) in {directory} that are not decodable images: {named}\n")


def _warn_unreadable(directory, unreadable):
    """One line naming the sub-folders and links that could not be read (their images are left out)."""
    sys.stderr.write(f"warning: left out {len(unreadable)} sub-folder(s) or link(s) in {directory} that cannot be read: "
                     f"{_first_few(len(unreadable), unreadable)}; fix their permissions or links to train on their images\n")


def _why(entry):
    """The decoder's reason for a bad file, found again (the cache keeps only which files failed)."""
    if entry.size == 0:
        return "empty file"
    try:
        decode.decode_file(entry.path, (1, 1), 1)
    except decode.BadImage as error:
        return str(error).replace(f" {str(entry.path)!r}", "")  # PIL repeats the path
    return "unreadable"
