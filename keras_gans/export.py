"""The generator as a versioned SavedModel: export_dir/<version>/saved_model.pb + variables/.

This is the layout TF Serving loads (`--model_base_path=export_dir`).
Signature `serving_default`: input `z` float32 [None, latent_dim] -> output
`images` float32 [None, H, W, C] in [-1, 1] (inference mode).
"""

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from keras_gans.errors import UserError


def next_version(export_dir):
    """1 + the highest integer version folder in export_dir (1 for a new folder)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir) if name.isdigit()]
    return max(versions, default=0) + 1


def export_generator(model, export_dir, version=None):
    """Writes the generator of `model` to export_dir/<version>/ and returns that path.

    Versions increase and are never overwritten; the version is written to a
    temporary folder first and renamed into place, so no half-written version
    is ever visible to TF Serving.
    """
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise UserError(f"export directory {export_dir!r} is a file: choose a folder path")
    version = next_version(export_dir) if version is None else int(version)
    if version <= 0:
        raise UserError(f"export version must be a positive integer, got {version}")
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target):
        raise UserError(f"export version {target} already exists: versions are never overwritten; omit the version")
    os.makedirs(export_dir, exist_ok=True)

    generator = model.generator
    archive = keras.export.ExportArchive()
    archive.track(generator)

    def serve(z):
        return {"images": generator(z, training=False)}

    archive.add_endpoint(
        "serving_default", serve, input_signature=[tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")]
    )
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
    try:
        archive.write_out(staging, verbose=False)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
