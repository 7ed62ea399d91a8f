"""The files a run writes once: its settings at the start, its model and export at the end."""

import dataclasses
import os
import platform

import keras

from keras_gans import export as export_lib
from keras_gans.fileio import save_model_atomic  # noqa: F401  (re-exported)
from keras_gans.serving.versions import missing_parts, version_numbers
from keras_gans.training.run_dir import RunDir


def write_run_info(config, run_dir, flags_text=None):
    """The resolved config, library versions and (from train.py) the flags, saved with the run."""
    import tensorflow as tf

    from keras_gans import __version__

    run_dir = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    run_dir.write_json_atomic(run_dir.config, dataclasses.asdict(config), indent=1, sort_keys=True)
    versions = {
        "keras_gans": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }
    run_dir.write_json_atomic(run_dir.versions, versions, indent=1)
    if flags_text is not None:
        run_dir.write_text_atomic(run_dir.flags, flags_text)


def save(model, config, write_dir, class_names=None):
    """Writes model.keras (atomically) and, with --export, the SavedModel (with the class names of a
    conditional model); returns the export's path or None."""
    save_model_atomic(model, write_dir.model)
    return export_lib.export_generator(model, write_dir.export, class_names=class_names) if config.export else None


def latest_export(run_dir):
    """The newest complete export version folder of a run, or None."""
    for version in version_numbers(run_dir.export):
        path = os.path.join(run_dir.export, str(version))
        if not missing_parts(path):
            return path
    return None
