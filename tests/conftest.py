"""Shared test helpers: quiet TensorFlow, locate ../shared/data, tiny datasets, configs and models."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_data_dir():
    """../shared/data beside the repository, or $KERAS_GANS_SHARED_DATA."""
    return os.environ.get("KERAS_GANS_SHARED_DATA", os.path.join(os.path.dirname(REPO_ROOT), "shared", "data"))


@pytest.fixture(scope="session")
def shared_data():
    """Path of the shared real data. Fails (never skips) when it is missing: CI must have it."""
    path = shared_data_dir()
    if not os.path.isdir(os.path.join(path, "fashion-mnist")):
        pytest.fail(
            f"shared data not found at {path}: clone the project beside shared/ or set KERAS_GANS_SHARED_DATA"
        )
    return path


def random_images(count, shape=(28, 28, 1), seed=0):
    """float32 images uniformly in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (count, *shape)).astype("float32")


def subprocess_env(**extra):
    """The environment of a test's subprocess: this checkout's keras_gans first on the path
    (not an installed copy), quiet TensorFlow."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


# A run small enough for a unit test: 128 sample images, 8-wide networks, one epoch, nothing exported.
TINY_SETTINGS = dict(dataset="sample", max_images=128, width=8, latent_dim=8, batch_size=16, epochs=1,
                     verbose=0, export=False)


def tiny_config(output_dir, **overrides):
    """A TrainConfig of TINY_SETTINGS writing into `output_dir`, with `overrides`."""
    from keras_gans.config import TrainConfig

    return TrainConfig(**{**TINY_SETTINGS, "output_dir": str(output_dir), **overrides})


def tiny_model(width=8, latent_dim=16):
    """A compiled 28x28 DCGAN with tiny networks, no XLA."""
    from keras_gans.models import MODELS

    model = MODELS["dcgan"](image_shape=(28, 28, 1), width=width, latent_dim=latent_dim, seed=0)
    model.compile(jit_compile=False)
    return model


def checkpoint_differences(expected_path, actual_path):
    """Names of the parts of two checkpoint files that differ, bit for bit.

    The JSON record counts too, but for `train_seconds` (the training clock of
    --max_minutes), which no two runs share.
    """
    import json

    expected, actual = np.load(expected_path), np.load(actual_path)
    if sorted(expected.files) != sorted(actual.files):
        return ["files: " + " vs ".join(str(sorted(f.files)) for f in (expected, actual))]
    different = [name for name in expected.files if name != "meta" and not np.array_equal(expected[name], actual[name])]
    records = [json.loads(bytes(f["meta"]).decode("utf-8")) for f in (expected, actual)]
    for record in records:
        if not record.pop("train_seconds", 0) > 0:
            different.append("meta: no train_seconds")
    if records[0] != records[1]:
        different.append("meta")
    return different
