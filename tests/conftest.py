"""Shared test helpers: quiet TensorFlow, locate ../shared/data, tiny datasets."""

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
