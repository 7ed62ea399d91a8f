"""The evaluation command end to end, the generator loaders, and the extractors' failure modes."""

import json
import math
import os
import shutil
import time

import numpy as np
import pytest

from keras_gans import evaluate, features
from keras_gans.errors import UserError


@pytest.fixture(scope="module")
def tiny_model():
    from keras_gans import DCGAN

    model = DCGAN(image_shape=(28, 28, 1), latent_dim=8, width=8, seed=0)
    model.generate(2, seed=0)  # builds the networks
    return model


@pytest.fixture(scope="module")
def export_base(tiny_model, tmp_path_factory):
    from keras_gans.serving.export import export_generator

    base = str(tmp_path_factory.mktemp("export"))
    export_generator(tiny_model, base, allow_untrained=True)  # an untrained generator is all these tests need
    return base


def test_evaluate_command_writes_a_valid_report(export_base, tiny_model, shared_data, tmp_path, capsys):
    spec = "idx:" + os.path.join(shared_data, "fashion-mnist")
    output = str(tmp_path / "report.json")
    code = evaluate.main(["--export_dir", export_base, "--dataset", spec, "--num_samples", "200",
                          "--kid_subset_size", "100", "--seed", "3", "--output", output])
    assert code == 0, capsys.readouterr().err
    with open(output) as f:
        report = json.load(f)
    assert report["num_samples"] == 200 and report["num_real"] == 200 and report["seed"] == 3
    assert report["dataset"] == spec and report["split"] == "train"
    assert report["generator"]["version"] == 1
    assert report["extractor"]["name"] == "classifier"
    assert report["extractor"]["test_accuracy"] > 0.85
    values = report["metrics"]
    for key in ("frechet_distance", "kernel_distance", "kernel_distance_std", "precision", "recall",
                "classifier_score", "classifier_score_real"):
        assert isinstance(values[key], float) and math.isfinite(values[key]), key
    # An untrained generator: far from the data, and real images score higher.
    assert values["kernel_distance"] > 0.01
    assert values["classifier_score_real"] > values["classifier_score"]

    # The exported signature and the model give the same images for a seed.
    generator = evaluate.load_export(export_base)
    assert generator.latent_dim == 8
    np.testing.assert_allclose(generator.sample(4, seed=3), tiny_model.generate(4, seed=3), atol=1e-5)


def test_evaluate_a_keras_model_file(tiny_model, tmp_path, capsys):
    path = str(tmp_path / "model.keras")
    tiny_model.save(path)
    code = evaluate.main(["--model", path, "--dataset", "sample", "--num_samples", "100",
                          "--kid_subset_size", "50", "--output", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["generator"]["class"] == "DCGAN"
    # The sample is the first 6,000 Fashion-MNIST training images: the packaged classifier serves it.
    assert report["extractor"]["path"].endswith("fashion_mnist_classifier.keras")


def test_a_keras_model_file_is_sampled_as_generate_samples_it(tmp_path):
    """With ema_decay, --model scores the average with standing statistics (what generate and the export give),
    not the raw generator that model.keras also holds."""
    import tensorflow as tf

    from keras_gans import DCGAN
    from keras_gans.latents import latent_vectors

    model = DCGAN(image_shape=(28, 28, 1), latent_dim=8, width=4, seed=0, ema_decay=0.5)
    model.compile(jit_compile=False)
    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)), tf.float32)
    for _ in range(3):
        model.train_step(real)
    path = str(tmp_path / "model.keras")
    model.save(path)
    sampled = evaluate.load_keras_model(path).sample(4, seed=3)
    np.testing.assert_allclose(sampled, model.generate(4, seed=3), atol=1e-5)
    raw = model.generator(latent_vectors(4, 8, 3), training=False).numpy()
    assert np.abs(sampled - raw).max() > 1e-3


def test_broken_newest_version_is_skipped_with_a_warning(export_base, tmp_path, capsys):
    """Given the base, the newest COMPLETE version is scored; a version folder without variables/ is one line."""
    base = tmp_path / "export"
    shutil.copytree(os.path.join(export_base, "1"), base / "1")
    shutil.copytree(os.path.join(export_base, "1"), base / "2")
    shutil.rmtree(base / "2" / "variables")
    generator = evaluate.load_export(str(base))
    assert generator.info["version"] == 1
    assert str(base / "2") in capsys.readouterr().err
    assert evaluate.main(["--export_dir", str(base / "2"), "--num_samples", "20", "--k", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no variables/" in err


def test_truncated_keras_file_is_one_line_not_file_not_found(tiny_model, tmp_path, capsys):
    path = tmp_path / "model.keras"
    tiny_model.save(str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert evaluate.main(["--model", str(path), "--dataset", "sample", "--num_samples", "20", "--k", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "corrupt or truncated model file" in err and "not found" not in err.lower()


def test_missing_inception_weights_fail_fast_and_clearly(export_base, tmp_path, monkeypatch, capsys):
    missing = str(tmp_path / "nothing.h5")
    start = time.time()
    code = evaluate.main(["--export_dir", export_base, "--extractor", "inception", "--inception_weights", missing])
    err = capsys.readouterr().err
    assert code == 2 and time.time() - start < 2.0
    assert err.startswith("error: ") and missing in err and "--extractor=classifier" in err
    assert err.count("\n") == 1  # one line, no traceback

    # No path given and an empty Keras cache: the message names the folder searched, no download is tried.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(UserError, match=str(tmp_path / "models")):
        features.InceptionExtractor()


def test_bad_arguments_fail_before_work(export_base, tmp_path, capsys, monkeypatch):
    # Loading the generator is the first piece of work: none of these may reach it.
    monkeypatch.setattr(evaluate, "load_export", lambda *a: pytest.fail("work started before the checks"))
    assert evaluate.main(["--export_dir", export_base, "--num_samples", "5"]) == 2
    assert "--num_samples" in capsys.readouterr().err
    assert evaluate.main(["--export_dir", export_base, "--num_samples", str(evaluate.MAX_NUM_SAMPLES + 1)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--num_samples must be at most 50,000" in err
    assert evaluate.main(["--export_dir", export_base, "--output", str(tmp_path / "no" / "r.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    a_file = tmp_path / "file"
    a_file.write_text("x")
    # Below a regular file: unwritable for root too (chmod would not stop root).
    assert evaluate.main(["--export_dir", export_base, "--output", str(a_file / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--output" in err and "is a file, not a folder" in err
    monkeypatch.undo()
    assert evaluate.main(["--export_dir", str(tmp_path / "none")]) == 2
    assert "--export_dir" in capsys.readouterr().err


def test_classifier_cache_is_keyed_by_dataset(tmp_path, monkeypatch, capsys):
    from keras_gans import data

    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path))
    images = data.open_source("sample", limit=256).images
    with pytest.raises(UserError, match="python -m keras_gans.features --train --dataset sample"):
        features.classifier_for_dataset(images, "sample")
    assert features.main(["--train", "--dataset", "sample", "--max_images", "256", "--epochs", "1"]) == 0
    capsys.readouterr()
    extractor = features.classifier_for_dataset(images, "sample")
    assert extractor.info["path"] == str(tmp_path / f"{features.dataset_key(images)}.keras")
    assert extractor.features(images[:10]).shape == (10, 128)
    # Any other images (here: one pixel changed) have another key, so the classifier is not reused.
    other = images.copy()
    other[0, 0, 0, 0] ^= 1
    with pytest.raises(UserError, match="no feature classifier"):
        features.classifier_for_dataset(other, "sample")


def test_inception_extractor_loads_a_local_weights_file(tmp_path):
    # Random weights in the no-top layout stand in for the ImageNet file (no network here):
    # this checks the loading fallback, the grey-to-RGB resize path and the feature size.
    import keras

    path = str(tmp_path / "inception_v3_notop.weights.h5")
    keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg").save_weights(path)
    extractor = features.InceptionExtractor(path, batch_size=2)
    assert extractor.has_top is False and extractor.info["weights"] == path
    feats, probabilities = extractor.features_and_probabilities(np.zeros((3, 28, 28, 1), np.uint8))
    assert feats.shape == (3, 2048) and probabilities is None and np.all(np.isfinite(feats))


def test_classifier_training_checks_its_output_and_refuses_a_damaged_classifier(tmp_path, monkeypatch, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    monkeypatch.setattr(features, "train_classifier", lambda *a, **k: pytest.fail("trained before checking --output"))
    assert features.main(["--train", "--dataset", "sample", "--output", str(a_file / "c.keras")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "is a file, not a folder" in err
    truncated = tmp_path / "c.keras"
    packaged = features.packaged_classifier_path()
    with open(packaged, "rb") as f:
        truncated.write_bytes(f.read()[:1000])
    with pytest.raises(UserError, match="corrupt or truncated model file"):
        features.load_classifier(str(truncated))
