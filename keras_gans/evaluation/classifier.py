"""The small dataset classifier behind the offline metrics: build, train, save, and where it is kept.

`keras_gans.evaluation.features` turns a saved classifier into an extractor;
this module makes one (`python -m keras_gans.features --train ...`) and
names the files: the one shipped for Fashion-MNIST and the per-dataset cache.
"""

import hashlib
import json
import os
import time
from importlib import resources

import numpy as np

from keras_gans.errors import UserError
from keras_gans.images import as_unit_range

PACKAGED_CLASSIFIER = "fashion_mnist_classifier.keras"
FEATURE_LAYER = "features"


def build_classifier(image_shape=(28, 28, 1), num_classes=10):
    """A small CNN (about 130k parameters) for MNIST-sized images; a 128-d `features` layer before the logits."""
    import keras

    images = keras.Input(shape=tuple(image_shape), name="images")
    x = images
    for filters in (32, 64, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    x = keras.layers.Dropout(0.3)(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(images, logits, name="classifier")


def dataset_key(images):
    """16 hex digits identifying a set of images (shape and every pixel)."""
    digest = hashlib.sha256(str(np.asarray(images).shape).encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    return digest.hexdigest()[:16]


def cache_dir():
    """Where trained classifiers are kept: $KERAS_GANS_CACHE or ~/.keras/keras_gans/classifiers."""
    return os.environ.get("KERAS_GANS_CACHE") or os.path.join(os.path.expanduser("~"), ".keras", "keras_gans", "classifiers")


def packaged_classifier_path():
    return str(resources.files("keras_gans") / "resources" / PACKAGED_CLASSIFIER)


def _read_info(model_path):
    info_path = os.path.splitext(model_path)[0] + ".json"
    if os.path.exists(info_path):
        with open(info_path) as f:
            return json.load(f)
    return {}


def train_classifier(source, test_source=None, epochs=5, batch_size=128, seed=0, verbose=1):
    """Trains `build_classifier` on a labelled `ImageSource`; returns (model, info dict).

    info holds the dataset key, the test accuracy (when `test_source` is given),
    epochs and the training time.
    """
    import keras

    if source.labels is None:
        raise UserError(
            f"dataset {source.name!r} has no labels, so no classifier can be trained on it: "
            "use --extractor=inception, or a labelled dataset (idx: with *-labels-idx1-ubyte files, tfds:)"
        )
    keras.utils.set_random_seed(seed)
    num_classes = int(source.labels.max()) + 1
    model = build_classifier(source.image_shape, num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(as_unit_range(source.images), source.labels.astype(np.int32), batch_size=batch_size, epochs=epochs,
              shuffle=True, verbose=verbose)
    info = {
        "dataset": source.name,
        "dataset_keys": [dataset_key(source.images)],
        "num_train_images": len(source),
        "num_classes": num_classes,
        "epochs": epochs,
        "train_seconds": round(time.time() - start, 1),
    }
    if test_source is not None and test_source.labels is not None:
        _, accuracy = model.evaluate(as_unit_range(test_source.images), test_source.labels.astype(np.int32),
                                     batch_size=500, verbose=0)
        info["test_accuracy"] = round(float(accuracy), 4)
        info["num_test_images"] = len(test_source)
    return model, info


def save_classifier(model, info, path):
    """Writes the classifier (weights only, no optimiser state) to `path` and its info to path's .json."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # A fresh, never-compiled copy: a compiled model (and clone_model of one) saves
    # the optimiser's slots too, tripling the file.
    clean = build_classifier(model.input_shape[1:], model.output_shape[-1])
    clean.set_weights(model.get_weights())
    clean.save(path)
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(info, f, indent=1)
    return path
