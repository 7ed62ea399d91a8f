"""Scores a trained generator against a dataset and writes a JSON report.

    python -m keras_gans.evaluate --export_dir runs/latest/export \
        --dataset idx:../shared/data/fashion-mnist --num_samples 10000 --output report.json

The generator is an exported SavedModel (`--export_dir`: the base folder,
whose newest complete version is used, or one version folder) or a saved
`.keras` model (`--model`: a keras_gans model or a bare generator network).
`num_samples` images are generated from latents of `--seed` (the same latents
`model.generate(n, seed)` uses) and compared with as many real images drawn
(with the same seed) from the dataset's `--split`.

The report holds every metric of `keras_gans.metrics` (Frechet distance, KID
and its spread, precision, recall, classifier score) and the feature-free
multi-scale sliced Wasserstein distance of `keras_gans.evaluation.swd`
(`swd`, and `swd_<size>` per pyramid level; images of at least 16x16), the sample counts, the
extractor with its weights file, and the seed. With the default
`--extractor=classifier` on Fashion-MNIST the numbers come from the classifier
shipped with the package, so they are comparable between runs and machines;
they are not comparable with Inception FIDs from papers.

A class-conditional generator (an export with a `class_names` signature, or a
model with `num_classes`) is asked for the classes of the real images it is
compared with, image for image, so the generated set has the dataset's class
mix (from the seed, as `model.generate(n, seed)` draws them, when the dataset
has no labels), and the report adds `class_accuracy`
(overall and per class: how often the dataset classifier recognises the
requested class) and `frechet_distance_per_class` (`evaluation.conditional`).

`--num_samples` is at most 50,000 (the sample size of the standard FID; about
2 GB of memory on Fashion-MNIST). `--output` is checked before any work.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from keras_gans.errors import UserError
from keras_gans.fileio import check_keras_file, check_writable, describe_write_error
from keras_gans.serving.versions import load_saved_model, resolve_version_dir

MAX_NUM_SAMPLES = 50000


class Generator:
    """A loaded generator: `latent_dim`, `info`, and `__call__(z) -> images [B, H, W, C] in [-1, 1]`.

    A conditional one has `num_classes` and `class_names`, and its `fn` takes (z, labels).
    """

    def __init__(self, fn, latent_dim, info, num_classes=None, class_names=None):
        self.fn = fn
        self.latent_dim = int(latent_dim)
        self.info = info
        self.num_classes = num_classes
        self.class_names = class_names

    def __call__(self, z, labels=None):
        return np.asarray(self.fn(z) if self.num_classes is None else self.fn(z, labels), np.float32)

    def sample_labels(self, num, seed):
        """The classes `GAN.generate(num, seed)` draws for a conditional generator; None otherwise."""
        if self.num_classes is None:
            return None
        from keras_gans.latents import class_labels

        return class_labels(int(num), self.num_classes, seed).numpy()

    def sample(self, num, seed, batch_size=500, labels=None):
        """`num` images from the latents (and classes) `GAN.generate(num, seed)` would use.

        A conditional generator can be given its `labels` (one class id per image) instead.
        """
        from keras_gans.models.gan import latent_vectors

        z = latent_vectors(int(num), self.latent_dim, seed).numpy()
        if labels is None:
            labels = self.sample_labels(num, seed)
        return np.concatenate([
            self(z[i:i + batch_size], None if labels is None else labels[i:i + batch_size])
            for i in range(0, len(z), batch_size)])


def load_export(export_dir):
    """A `Generator` from an exported SavedModel's `serving_default` signature (input `z`, output `images`)."""
    import tensorflow as tf

    path = resolve_version_dir(export_dir)
    loaded = load_saved_model(path)
    if "serving_default" not in loaded.signatures:
        raise UserError(
            f"{path} has no serving_default signature: export it with keras_gans.serving.export.export_generator"
        )
    signature = loaded.signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    if "z" not in inputs or inputs["z"].shape.rank != 2 or inputs["z"].shape[1] is None:
        raise UserError(f"{path}: serving_default must take z [None, latent_dim], it takes {inputs}")

    def fn(z, labels=None):
        extra = {} if labels is None else {"label": tf.constant(labels, tf.int32)}
        return signature(z=tf.constant(z, tf.float32), **extra)["images"].numpy()

    version = os.path.basename(os.path.normpath(path))
    info = {"export_dir": os.path.abspath(path), "version": int(version) if version.isdigit() else None}
    class_names = None
    if "class_names" in loaded.signatures:  # a class-conditional export
        class_names = [n.decode("utf-8") for n in loaded.signatures["class_names"]()["class_names"].numpy()]
    # Keep `loaded` alive: the signature's variables belong to it.
    generator = Generator(fn, inputs["z"].shape[1], info, len(class_names) if class_names else None, class_names)
    generator.saved_model = loaded
    return generator


def load_keras_model(path):
    """A `Generator` from a `.keras` file: a keras_gans model or a bare generator network.

    A keras_gans model is sampled as `model.generate` samples it: through
    `sampling_network()` (with `ema_decay`, the generator average with standing
    BatchNorm statistics, as the export serves it), not its raw generator.
    """
    import keras

    import keras_gans.models  # noqa: F401  (registers the classes load_model needs)

    check_keras_file(path, "--model")
    model = keras.saving.load_model(path, compile=False)
    network = model.sampling_network() if hasattr(model, "sampling_network") else getattr(model, "generator", model)
    num_classes = getattr(model, "num_classes", None)
    latent_dim = network.input_shape[-1] if num_classes is None else network.input_shape[0][-1]

    def fn(z, labels=None):
        return keras.ops.convert_to_numpy(network(z if labels is None else [z, labels], training=False))

    return Generator(fn, latent_dim, {"model": os.path.abspath(path), "class": type(model).__name__}, num_classes)


def real_sample(source, num, seed, with_labels=False):
    """`num` images of `source` (all when it has fewer), drawn without replacement by `seed`
    (with `with_labels`: and their labels, None when the source has none)."""
    num = min(int(num), len(source))
    index = np.sort(np.random.default_rng(seed).choice(len(source), num, replace=False))
    if with_labels:
        return source.images[index], (None if source.labels is None else source.labels[index])
    return source.images[index]


def _requested_classes(generator, real_labels, num, seed, dataset):
    """The classes a conditional generator is asked for: those of the real sample, image for image.

    So the generated set has the dataset's class mix: drawing classes uniformly would over-draw a
    folder's rare classes, and every distribution metric would count that as the generator's error.
    None for an unconditional generator; the seed's uniform draw when the dataset has no labels.
    """
    if generator.num_classes is None:
        return None
    if real_labels is None:
        return generator.sample_labels(num, seed)
    if int(real_labels.max()) >= generator.num_classes:
        raise UserError(
            f"{dataset!r} has class ids up to {int(real_labels.max())} but the generator has "
            f"{generator.num_classes} classes: evaluate it on the dataset it was trained on")
    return np.asarray(real_labels, np.int32)


def evaluate(generator, dataset, num_samples=10000, split="train", extractor="classifier", seed=0,
             inception_weights=None, classifier=None, data_dir=None, kid_subset_size=1000, k=3):
    """Generates `num_samples` images and scores them against the dataset; returns the report dict."""
    from keras_gans import data
    from keras_gans.evaluation import features, metrics

    start = time.time()
    if extractor == "inception":
        # Fail on a missing weights file before any data is read.
        features.inception_weights_path(inception_weights)
    source = data.open_source(dataset, split=split, data_dir=data_dir)
    train_images = source.images if split == "train" else data.open_source(dataset, "train", data_dir=data_dir).images
    net = features.get_extractor(extractor, train_images, dataset, inception_weights, classifier)

    real, real_labels = real_sample(source, num_samples, seed, with_labels=True)
    fake_labels = _requested_classes(generator, real_labels, len(real), seed, dataset)
    fake = generator.sample(num_samples, seed, labels=fake_labels)
    if fake.shape[1:] != real.shape[1:]:
        raise UserError(
            f"the generator makes images of shape {fake.shape[1:]} but {dataset!r} holds {real.shape[1:]}: "
            "evaluate it on the dataset it was trained on"
        )
    real_features = net.features(real)
    fake_features, fake_probabilities = net.features_and_probabilities(fake)
    results = metrics.all_metrics(real_features, fake_features, fake_probabilities,
                                  kid_subset_size=kid_subset_size, k=k, seed=seed)
    if min(real.shape[1:3]) >= 16:
        # Feature-free: multi-scale sliced Wasserstein distance of 7x7 patches (first 1,024 images a side).
        from keras_gans.evaluation import swd
        from keras_gans.images import as_unit_range

        results.update(swd.multiscale_swd(as_unit_range(real), fake, seed=seed))
    if fake_probabilities is not None:
        # The same score on real images: the ceiling a perfect generator would reach.
        _, real_probabilities = net.features_and_probabilities(real)
        results["classifier_score_real"] = metrics.classifier_score(real_probabilities, 10 if len(real) >= 100 else 1)[0]
    if generator.num_classes is not None and fake_probabilities is not None:
        from keras_gans.evaluation import conditional

        results.update(conditional.class_metrics(
            fake_probabilities, fake_labels, real_features, real_labels, fake_features,
            class_names=generator.class_names))
    return {
        "metrics": results,
        "num_samples": int(len(fake)),
        "num_real": int(len(real)),
        "dataset": dataset,
        "split": split,
        "seed": int(seed),
        "extractor": net.info,
        "generator": generator.info,
        "kid_subset_size": int(min(kid_subset_size, len(fake), len(real))),
        "precision_recall_k": int(k),
        "seconds": round(time.time() - start, 1),
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m keras_gans.evaluate", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--export_dir", help="exported generator: base folder (highest version) or a version folder")
    source.add_argument("--model", help="a saved .keras model (keras_gans model or generator)")
    parser.add_argument("--dataset", default="sample", help="dataset spec: sample, idx:DIR, folder:DIR, tfds:NAME")
    parser.add_argument("--split", default="train", choices=["train", "test"], help="real images to compare with")
    parser.add_argument("--data_dir", help="TFDS data directory (tfds: specs)")
    parser.add_argument("--num_samples", type=int, default=10000,
                        help=f"generated (and real) images to score, 20..{MAX_NUM_SAMPLES}")
    parser.add_argument("--extractor", default="classifier", choices=["classifier", "inception"])
    parser.add_argument("--classifier", help="classifier .keras file (default: the one trained on --dataset)")
    parser.add_argument("--inception_weights", help="InceptionV3 .h5 weights (default: the Keras cache)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents and of the real sample")
    parser.add_argument("--kid_subset_size", type=int, default=1000)
    parser.add_argument("--k", type=int, default=3, help="neighbourhood size of precision/recall")
    parser.add_argument("--output", help="JSON report path (default: print only)")
    return parser.parse_args(argv)


def validate(args):
    if args.num_samples < 20:
        raise UserError(f"--num_samples must be at least 20 (10,000 for reportable numbers), got {args.num_samples}")
    if args.num_samples > MAX_NUM_SAMPLES:
        raise UserError(
            f"--num_samples must be at most {MAX_NUM_SAMPLES:,} (the standard FID sample; more needs "
            f"gigabytes of memory and changes no conclusion), got {args.num_samples}"
        )
    if args.kid_subset_size < 2:
        raise UserError(f"--kid_subset_size must be at least 2, got {args.kid_subset_size}")
    if not 1 <= args.k < args.num_samples:
        raise UserError(f"--k must be in [1, num_samples), got {args.k}")
    if args.output:
        check_writable(args.output, "--output")
    if args.extractor == "inception":
        from keras_gans.evaluation import features

        features.inception_weights_path(args.inception_weights)


def main(argv=None):
    args = parse_args(argv)
    try:
        validate(args)
        generator = load_export(args.export_dir) if args.export_dir else load_keras_model(args.model)
        report = evaluate(
            generator, args.dataset, args.num_samples, args.split, args.extractor, args.seed,
            args.inception_weights, args.classifier, args.data_dir, args.kid_subset_size, args.k,
        )
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=1)
    print(text)  # first, so a write that fails after the check above does not lose the report
    if args.output:
        try:
            with open(args.output + ".tmp", "w") as f:
                f.write(text + "\n")
            os.replace(args.output + ".tmp", args.output)
        except OSError as error:
            print(f"error: {describe_write_error(error, args.output)}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
