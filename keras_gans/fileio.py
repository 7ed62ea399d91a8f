"""File-system checks shared by every command that writes or reads a user's file.

One place decides what a failed write means (disk full, no permission, a
missing folder), so every command says the same right cause in one line.
"""

import errno
import os
import tempfile
import zipfile

from keras_gans.errors import UserError

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_NO_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}


def describe_write_error(error, path):
    """One line saying why writing `path` failed and what to do about it.

    Understands OSError (by errno) and TensorFlow's file-system errors, which
    are not OSErrors: a full disk during a SavedModel write raises
    `tf.errors.ResourceExhaustedError`, a denied one `PermissionDeniedError`.
    """
    kind = _cause(error)
    if kind == "disk full":
        return f"cannot write {path}: the disk is full (no space left on device); free some disk space or write elsewhere"
    if kind == "permission":
        return f"cannot write {path}: permission denied (or a read-only file system); choose a folder you can write to"
    if kind == "missing":
        return f"cannot write {path}: its folder does not exist; create it first or fix the path"
    if kind == "not a folder":
        return f"cannot write {path}: a part of the path is a file, not a folder; fix the path"
    return f"cannot write {path}: {_detail(error)}"


def _cause(error):
    number = getattr(error, "errno", None)
    if number in _DISK_FULL:
        return "disk full"
    if number in _NO_PERMISSION:
        return "permission"
    if number == errno.ENOENT:
        return "missing"
    if number == errno.ENOTDIR:
        return "not a folder"
    # TensorFlow's errors carry no errno; their class (and message) name the cause.
    name = type(error).__name__
    message = str(error).lower()
    if name == "ResourceExhaustedError" or "no space left" in message:
        return "disk full"
    if name == "PermissionDeniedError" or "permission denied" in message or "read-only file system" in message:
        return "permission"
    if "not a directory" in message:
        return "not a folder"
    if name == "NotFoundError":
        return "missing"
    return None


def _detail(error):
    text = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def is_write_error(error):
    """True for an error `describe_write_error` explains: an OSError or a TensorFlow file-system error."""
    return isinstance(error, OSError) or type(error).__name__ in {
        "ResourceExhaustedError", "PermissionDeniedError", "NotFoundError", "FailedPreconditionError",
    }


def check_writable(path, flag):
    """Raises UserError unless a file can be created at `path`; called before any work is done.

    Creates (and removes) a scratch file beside `path`: `os.access` answers
    yes for root even on a read-only mount, a real create does not.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise UserError(f"{flag}={path!r} is a folder: give a file path")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        cause = "is a file, not a folder" if os.path.exists(folder) else "does not exist"
        raise UserError(f"{flag}={path!r}: folder {folder} {cause}; create the folder or fix the path")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".keras_gans-write-check-"):
            pass
    except OSError as error:
        raise UserError(f"{flag}: {describe_write_error(error, path)}") from None


def check_keras_file(path, flag):
    """Raises UserError unless `path` is an existing, complete `.keras` file (a zip archive).

    Keras reports a truncated archive as "File not found", which sends the
    user looking for a file that is there; the zip's central directory sits
    at its end, so a truncated or corrupt file fails this check.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise UserError(f"{flag}={path!r} is not a .keras file: pass a model saved with model.save('NAME.keras')")
    if not os.path.isfile(path):
        raise UserError(f"{flag}={path!r} does not exist: check the path")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{flag}={path!r} is a corrupt or truncated model file: save or copy it again")


def save_model_atomic(model, path):
    """`model.save(path)` through a temporary file and a rename: a kill or a full disk during the
    save leaves the previous model.keras whole instead of a truncated one."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp.keras")  # Keras insists on the .keras suffix
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
