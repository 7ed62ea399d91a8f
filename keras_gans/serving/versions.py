"""The version folders of an export base (`EXPORT_DIR/<integer>/`), as TF Serving sees them.

One lookup for the exporter (the next free version) and for the readers
(`keras_gans.sample`, `keras_gans.evaluate`: the newest complete version).
Needs no TensorFlow.
"""

import os
import sys

from keras_gans.errors import UserError


def version_numbers(export_dir):
    """The integer version folder names in export_dir, highest first (TF Serving ignores other names)."""
    if not os.path.isdir(export_dir):
        return []
    return sorted((int(name) for name in os.listdir(export_dir) if name.isdigit()), reverse=True)


def next_version(export_dir):
    """1 + the highest integer version folder in export_dir (1 for a new folder)."""
    return max(version_numbers(export_dir), default=0) + 1


def missing_parts(version_dir):
    """What a SavedModel folder lacks to be loadable: [] for a complete one."""
    missing = [part for part in ("saved_model.pb",) if not os.path.isfile(os.path.join(version_dir, part))]
    if not os.path.isfile(os.path.join(version_dir, "variables", "variables.index")):
        missing.append("variables/")
    return missing


def resolve_version_dir(export_dir, flag="--export_dir", warn=None):
    """The SavedModel folder to load: export_dir itself, or its newest complete version.

    A newer version that is incomplete (no saved_model.pb or no variables/,
    e.g. copied half-way) is skipped with a one-line warning naming it, as
    TF Serving would fail to load it.

    Args:
        export_dir: a version folder, or an export base holding version folders.
        flag: how messages name the argument.
        warn: called with each warning line (default: print to stderr).

    Raises:
        UserError: not a folder, an incomplete version folder, or no complete version.
    """
    warn = warn or (lambda line: print(f"warning: {line}", file=sys.stderr))
    if not os.path.isdir(export_dir):
        raise UserError(f"{flag}={export_dir!r} is not a folder: pass the export folder a training run wrote")
    if os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        missing = missing_parts(export_dir)
        if missing:
            raise UserError(
                f"{flag}={export_dir!r} is an incomplete SavedModel (no {' and no '.join(missing)}): "
                "export it again, or pass the export base folder to use its newest complete version"
            )
        return export_dir
    versions = version_numbers(export_dir)
    for version in versions:
        path = os.path.join(export_dir, str(version))
        missing = missing_parts(path)
        if not missing:
            return path
        warn(f"skipping incomplete export version {path} (no {' and no '.join(missing)})")
    if versions:
        raise UserError(f"{flag}={export_dir!r} holds no complete SavedModel version: export the model again")
    raise UserError(
        f"{flag}={export_dir!r} holds no SavedModel (no saved_model.pb, no <version>/saved_model.pb): "
        "pass e.g. runs/latest/export"
    )


def load_saved_model(path):
    """tf.saved_model.load(path), with a damaged SavedModel reported in one line."""
    import tensorflow as tf

    try:
        return tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as error:
        detail = (getattr(error, "message", None) or str(error)).strip().splitlines() or [type(error).__name__]
        raise UserError(f"cannot load the SavedModel in {path}: corrupt or truncated ({detail[0]}); export it again") from None
