"""Feature extractors for the sample-quality metrics: InceptionV3 and a small dataset classifier.

Two extractors, one interface (`features(images) -> [N, D]`,
`probabilities(images) -> [N, K]`, images float in [-1, 1] or uint8):

- `InceptionExtractor`: InceptionV3 from `keras.applications` with its
  ImageNet weights, read from a local file (a path you give, or the Keras
  cache `~/.keras/models/`). It never downloads: without the file it fails at
  once with a `UserError` saying where to put it. Its 2048-d pool features
  give the standard FID/KID; with the top-layer weights it also gives the
  Inception Score. Images are resized to 299x299 (and grey ones tiled to RGB),
  which suits natural images, not 28x28 clothing.

- `ClassifierExtractor`: a small CNN trained on the dataset's own labels (what
  TF-GAN does for MNIST), whose 128-d penultimate layer gives the features and
  whose softmax gives the classifier score. One for Fashion-MNIST ships with
  the package (`resources/fashion_mnist_classifier.keras`), so FID works
  offline without training anything; for other labelled datasets, train one:

      python -m keras_gans.features --train --dataset idx:DIR [--output PATH]

  Without --output it lands in the cache (`$KERAS_GANS_CACHE` or
  `~/.keras/keras_gans/classifiers/<dataset key>.keras`), where
  `classifier_for_dataset` finds it again. The key is a hash of the dataset's
  training images, so a classifier is never silently reused on other data.
"""

import argparse
import json
import os
import sys

import numpy as np

from keras_gans.errors import UserError
from keras_gans.evaluation.classifier import (  # noqa: F401  (re-exported: the old keras_gans.features names)
    FEATURE_LAYER, PACKAGED_CLASSIFIER, _read_info, build_classifier, cache_dir, dataset_key,
    packaged_classifier_path, save_classifier, train_classifier,
)
from keras_gans.fileio import check_keras_file, check_writable
from keras_gans.images import as_unit_range

INCEPTION_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
INCEPTION_FILES = (
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",  # with the ImageNet classifier (Inception Score)
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",  # pool features only
)


class Extractor:
    """Maps images to features (and class probabilities) in batches.

    Attributes:
        name: what the report calls it ("inception_v3", "classifier").
        info: JSON-able description (weights file, dataset key, accuracy).
    """

    name = "extractor"

    def __init__(self, batch_size=256):
        self.batch_size = int(batch_size)
        self.info = {"name": self.name}

    def _outputs(self, images):
        """(features, probabilities or None) for one batch of float32 images in [-1, 1]."""
        raise NotImplementedError

    def _run(self, images):
        images = as_unit_range(images)
        if images.ndim != 4:
            raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
        features, probabilities = [], []
        for start in range(0, len(images), self.batch_size):
            f, p = self._outputs(images[start:start + self.batch_size])
            features.append(np.asarray(f, np.float64))
            if p is not None:
                probabilities.append(np.asarray(p, np.float64))
        return np.concatenate(features), (np.concatenate(probabilities) if probabilities else None)

    def features(self, images):
        """[N, D] float64 features of images [N, H, W, C] (uint8, or float in [-1, 1])."""
        return self._run(images)[0]

    def features_and_probabilities(self, images):
        """Both outputs from one pass; probabilities is None when the extractor has no classifier."""
        return self._run(images)


# --- the dataset classifier ---------------------------------------------------------

class ClassifierExtractor(Extractor):
    """Features from the `features` layer of a classifier trained on the dataset's labels.

    Args:
        model: a Keras classifier (logits output, a layer named "features").
        info: description stored in reports.
    """

    name = "classifier"

    def __init__(self, model, info=None, batch_size=500):
        import keras

        super().__init__(batch_size)
        self.model = model
        self.image_shape = tuple(model.input_shape[1:])
        self._both = keras.Model(model.input, [model.get_layer(FEATURE_LAYER).output, model.output])
        self.info = {"name": self.name, **(info or {})}

    def _outputs(self, images):
        import tensorflow as tf

        if tuple(images.shape[1:]) != self.image_shape:
            raise UserError(
                f"the classifier expects images of shape {self.image_shape}, got {tuple(images.shape[1:])}: "
                "train one for this dataset (python -m keras_gans.features --train --dataset SPEC)"
            )
        features, logits = self._both(images, training=False)
        return features.numpy(), tf.nn.softmax(logits).numpy()


def load_classifier(path):
    """A `ClassifierExtractor` from a saved classifier file."""
    import keras

    if not os.path.exists(path):
        raise UserError(f"classifier file {path!r} does not exist: check --classifier, or train one with "
                        "python -m keras_gans.features --train --dataset SPEC --output PATH")
    check_keras_file(path, "--classifier")
    model = keras.saving.load_model(path, compile=False)
    return ClassifierExtractor(model, {"path": os.path.abspath(path), **_read_info(path)})


def classifier_for_dataset(images, spec="the dataset"):
    """The classifier trained on exactly these training images: packaged or cached.

    Raises:
        UserError naming the command that trains one, when there is none.
    """
    key = dataset_key(images)
    packaged = packaged_classifier_path()
    if os.path.exists(packaged) and key in _read_info(packaged).get("dataset_keys", []):
        return load_classifier(packaged)
    cached = os.path.join(cache_dir(), f"{key}.keras")
    if os.path.exists(cached):
        return load_classifier(cached)
    raise UserError(
        f"no feature classifier trained on {spec} (dataset key {key}): train one once with "
        f"`python -m keras_gans.features --train --dataset {spec}` (cached in {cache_dir()}), "
        "or pass --classifier=PATH or --extractor=inception"
    )


# --- InceptionV3 -------------------------------------------------------------------

def inception_weights_path(path=None):
    """The local InceptionV3 ImageNet weights file: `path`, or one in the Keras cache.

    Checked before anything is built or loaded, and never downloaded: offline,
    Keras's own download would hang on retries.
    """
    if path:
        if not os.path.isfile(path):
            raise UserError(
                f"InceptionV3 weights file {path!r} does not exist: download {INCEPTION_URL}{INCEPTION_FILES[1]} "
                "on a machine with network and pass its path, or use --extractor=classifier"
            )
        return path
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    for name in INCEPTION_FILES:
        candidate = os.path.join(keras_home, "models", name)
        if os.path.isfile(candidate):
            return candidate
    raise UserError(
        f"InceptionV3 ImageNet weights not found in {os.path.join(keras_home, 'models')} and no "
        f"--inception_weights given: download {INCEPTION_URL}{INCEPTION_FILES[1]} (or {INCEPTION_FILES[0]} "
        "for the Inception Score) into that folder or pass its path, or use --extractor=classifier (offline)"
    )


class InceptionExtractor(Extractor):
    """InceptionV3 pool features (2048-d) and, with top weights, ImageNet class probabilities.

    Args:
        weights: path of the weights .h5 file; None looks in the Keras cache.
            A file with the top layers (`..._kernels.h5`) also gives
            probabilities; a `_notop` file gives features only.
    """

    name = "inception_v3"

    def __init__(self, weights=None, batch_size=50):
        super().__init__(batch_size)
        path = inception_weights_path(weights)
        import keras

        try:
            if "notop" in os.path.basename(path):
                raise ValueError("no top layers")  # skip building the larger model for nothing
            model = keras.applications.InceptionV3(include_top=True, weights=None)
            model.load_weights(path)
            self._model = keras.Model(model.inputs, [model.get_layer("avg_pool").output, model.output])
            self.has_top = True
        except ValueError:
            model = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg")
            try:
                model.load_weights(path)
            except ValueError as error:
                raise UserError(f"{path} is not an InceptionV3 weights file ({error})") from None
            self._model = model
            self.has_top = False
        self.info = {"name": self.name, "weights": os.path.abspath(path), "has_top": self.has_top}

    def _outputs(self, images):
        import tensorflow as tf

        images = tf.convert_to_tensor(images)
        if images.shape[-1] == 1:
            images = tf.repeat(images, 3, axis=-1)
        if images.shape[-1] != 3:
            raise UserError(f"InceptionV3 takes 1- or 3-channel images, got {images.shape[-1]} channels")
        # keras.applications.inception_v3.preprocess_input maps pixels to [-1, 1]: ours already are.
        images = tf.image.resize(images, (299, 299), method="bilinear")
        if self.has_top:
            features, probabilities = self._model(images, training=False)
            return features.numpy(), probabilities.numpy()
        return self._model(images, training=False).numpy(), None


def get_extractor(name, train_images=None, spec="the dataset", inception_weights=None, classifier=None):
    """The extractor an evaluation asks for.

    Args:
        name: "classifier" or "inception".
        train_images: the dataset's training images (they key the classifier cache).
        spec: the dataset spec, for messages.
        inception_weights: path of the InceptionV3 weights (else the Keras cache).
        classifier: path of a classifier file, overriding the lookup by dataset.
    """
    if name == "inception":
        return InceptionExtractor(inception_weights)
    if name == "classifier":
        if classifier:
            return load_classifier(classifier)
        return classifier_for_dataset(train_images, spec)
    raise UserError(f"unknown --extractor={name!r}: use classifier or inception")


# --- command line -------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_gans.features",
        description="Train the feature classifier the metrics use for a labelled dataset.",
    )
    parser.add_argument("--train", action="store_true", help="train a classifier (the only action)")
    parser.add_argument("--dataset", required=True, help="dataset spec, e.g. idx:../shared/data/fashion-mnist")
    parser.add_argument("--output", help="where to write it (default: the cache, keyed by the dataset)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max_images", type=int, help="train on the first N images only (quick trials)")
    parser.add_argument("--also_key", action="append", default=[],
                        help="extra dataset spec whose train images this classifier also serves (e.g. sample)")
    args = parser.parse_args(argv)
    try:
        if not args.train:
            raise UserError("nothing to do: pass --train")
        if args.epochs <= 0 or args.batch_size <= 0:
            raise UserError("--epochs and --batch_size must be positive")
        from keras_gans import data

        if args.max_images is not None and args.max_images <= 0:
            raise UserError(f"--max_images must be positive, got {args.max_images}")
        source = data.open_source(args.dataset, split="train", limit=args.max_images)
        try:
            test_source = data.open_source(args.dataset, split="test")
        except UserError:
            test_source = None
        output = args.output or os.path.join(cache_dir(), f"{dataset_key(source.images)}.keras")
        if not output.endswith(".keras"):
            raise UserError(f"--output={output!r} must end in .keras")
        if args.output:  # before the training it would otherwise lose (the cache folder is created on save)
            check_writable(output, "--output")
        extra_keys = [dataset_key(data.open_source(spec, split="train").images) for spec in args.also_key]
        model, info = train_classifier(source, test_source, args.epochs, args.batch_size, args.seed)
        info["dataset_keys"] += extra_keys
        info["also_serves"] = args.also_key
        info["command"] = "python -m keras_gans.features " + " ".join(argv if argv is not None else sys.argv[1:])
        save_classifier(model, info, output)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"output": output, **info}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
