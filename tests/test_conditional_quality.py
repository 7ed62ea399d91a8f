"""Conditional quality: class accuracy and per-class Frechet distance, in keras_gans.evaluate and after a short run."""

import json

import numpy as np
import pytest

import keras_gans
from keras_gans.errors import UserError
from keras_gans.evaluation import conditional, evaluate
from keras_gans.evaluation.classifier import packaged_classifier_path
from keras_gans.evaluation.features import load_classifier
from keras_gans.evaluation.metrics import frechet_distance_from_features


def test_class_accuracy_by_hand():
    probabilities = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.5, 0.4, 0.1]])
    requested = [0, 1, 1, 2, 0]  # predicted 0, 1, 0, 2, 0: right, right, wrong, right, right
    overall, per_class = conditional.class_accuracy(probabilities, requested)
    assert overall == pytest.approx(4 / 5)
    assert per_class == {0: 1.0, 1: 0.5, 2: 1.0}


def test_per_class_frechet_compares_each_class_with_its_own_real_images():
    rng = np.random.default_rng(0)
    real = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(5, 1, (200, 2))])
    real_labels = np.repeat([0, 1], 200)
    fake = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(0, 1, (200, 2))])  # class 1 drawn as class 0
    fake_labels = np.repeat([0, 1], 200)
    result = conditional.per_class_frechet(real, real_labels, fake, fake_labels)
    assert result[0] == pytest.approx(frechet_distance_from_features(real[:200], fake[:200]))
    assert result[0] < 0.2 and result[1] > 40  # a mean shift of (5, 5): squared distance 50
    assert conditional.per_class_frechet(real, real_labels, fake[:201], fake_labels[:201])[1] is None


def test_evaluate_reports_class_accuracy_for_a_conditional_model(tmp_path, capsys):
    model = keras_gans.GAN(image_shape=(28, 28, 1), latent_dim=8, width=4, num_classes=10, seed=0)
    path = str(tmp_path / "c.keras")
    model.save(path)
    code = evaluate.main(["--model", path, "--dataset", "sample", "--num_samples", "100",
                          "--kid_subset_size", "50", "--output", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    results = json.loads((tmp_path / "r.json").read_text())["metrics"]
    assert 0.0 <= results["class_accuracy"] <= 1.0
    assert set(results["class_accuracy_per_class"]) <= {str(c) for c in range(10)}
    assert len(results["frechet_distance_per_class"]) == len(results["class_accuracy_per_class"])


def test_evaluate_asks_a_conditional_generator_for_the_real_samples_classes():
    """An imbalanced dataset (90% class 0): the generated set must get the same class mix, image for
    image, not the uniform draw of generate(n, seed), which distribution metrics would count as error."""
    requested = []

    def fn(z, labels):
        requested.append(np.asarray(labels))
        return np.zeros((len(z), 28, 28, 1), np.float32)

    # Through evaluate() itself, on the embedded sample: asked for exactly the real sample's classes.
    sample_generator = evaluate.Generator(fn, latent_dim=4, info={}, num_classes=10)
    evaluate.evaluate(sample_generator, "sample", num_samples=100, kid_subset_size=50)
    _, sample_labels = evaluate.real_sample(keras_gans.data.open_source("sample"), 100, 0, with_labels=True)
    assert np.concatenate(requested).tolist() == sample_labels.tolist()
    requested.clear()

    real_labels = np.array([0] * 90 + [1] * 5 + [2] * 5)
    generator = evaluate.Generator(fn, latent_dim=4, info={}, num_classes=3)
    asked = evaluate._requested_classes(generator, real_labels, 100, 0, "d")
    assert asked.tolist() == real_labels.tolist()
    images = generator.sample(100, seed=0, labels=asked, batch_size=30)
    assert images.shape == (100, 28, 28, 1) and np.concatenate(requested).tolist() == real_labels.tolist()
    # Without dataset labels: the seed's uniform draw, as before; an unconditional generator: none.
    assert evaluate._requested_classes(generator, None, 7, 3, "d").tolist() == generator.sample_labels(7, 3).tolist()
    assert evaluate._requested_classes(evaluate.Generator(fn, 4, {}), real_labels, 100, 0, "d") is None
    with pytest.raises(UserError, match="class ids up to 2 but the generator has 2 classes"):
        evaluate._requested_classes(evaluate.Generator(fn, 4, {}, num_classes=2), real_labels, 100, 0, "d")


@pytest.mark.slow
def test_a_short_conditional_run_on_the_sample_raises_class_accuracy():
    """300 steps of a width-16 conditional DCGAN on the embedded sample: the packaged classifier
    recognises the requested class far above chance. Measured: 0.10 at step 0, 0.44 after (about 90 s
    on 2 busy cores; 400 steps at batch 64 reached 0.73)."""
    import keras

    classifier = load_classifier(packaged_classifier_path())
    keras.utils.set_random_seed(0)
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), latent_dim=32, width=16, num_classes=10, seed=0)
    model.compile()
    requested = np.arange(500) % 10

    def accuracy():
        _, probabilities = classifier.features_and_probabilities(model.generate(500, seed=1, labels=requested))
        return conditional.class_accuracy(probabilities, requested)[0]

    before = accuracy()
    model.fit(keras_gans.data.load("sample", batch_size=32, labels=True, seed=0).repeat(), steps_per_epoch=300,
              epochs=1, verbose=0)
    after = accuracy()
    assert before < 0.2 and after > 0.3 and after > before + 0.15, (before, after)
