"""Metrics: closed forms, unbiasedness, and real data scored far better than noise by every metric."""

import math
import os

import numpy as np
import pytest

from keras_gans import metrics


# --- Frechet distance ------------------------------------------------------------------

def test_frechet_distance_1d_closed_form():
    # N(1, 2^2) vs N(-2, 5^2): (1 - -2)^2 + (2 - 5)^2 = 9 + 9.
    assert metrics.frechet_distance([1.0], [[4.0]], [-2.0], [[25.0]]) == pytest.approx(18.0, abs=1e-10)


def test_frechet_distance_diagonal_closed_form():
    # Commuting covariances: ||mu1 - mu2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 0.5) ** 2
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-10)


def test_frechet_distance_general_gaussians_and_symmetry():
    # Non-commuting covariances, checked against the textbook formula via scipy's sqrtm.
    import scipy.linalg

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * np.real(scipy.linalg.sqrtm(s1 @ s2)))
    forward = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert forward == pytest.approx(expected, rel=1e-9)
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(forward, rel=1e-9)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_singular_covariances_stay_finite():
    # 3 samples in 10 dimensions: rank-2 covariances, where a naive sqrtm goes complex or NaN.
    features = np.random.default_rng(1).normal(size=(3, 10))
    assert metrics.frechet_distance_from_features(features, features) == pytest.approx(0.0, abs=1e-9)
    shifted = features + 2.0
    # Same covariance, means 2 apart in each of 10 dimensions: 10 * 2^2.
    assert metrics.frechet_distance_from_features(features, shifted) == pytest.approx(40.0, rel=1e-7)


def test_frechet_distance_from_samples_approaches_closed_form():
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 1.0, size=(20000, 2))
    y = rng.normal([1.0, 0.0], [1.0, 3.0], size=(20000, 2))
    # 1 + (1 - 1)^2 + (1 - 3)^2 = 5.
    assert metrics.frechet_distance_from_features(x, y) == pytest.approx(5.0, rel=0.05)
    assert metrics.frechet_distance_from_features(x, y) == pytest.approx(
        metrics.frechet_distance_from_features(y, x), rel=1e-9)


def test_statistics_reject_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        metrics.feature_statistics(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        metrics.feature_statistics(np.zeros(5))
    with pytest.raises(ValueError, match="do not match"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


# --- KID ------------------------------------------------------------------------------

def test_kernel_distance_hand_computed():
    # d = 1, k(x, y) = (xy + 1)^3. x = {0, 1}: off-diagonal k = 1. y = {2, 3}: off-diagonal k = 343.
    # Cross terms 1, 1, 27, 64 (mean 23.25). MMD^2 = 1 + 343 - 2 * 23.25 = 297.5.
    mean, std = metrics.kernel_distance([[0.0], [1.0]], [[2.0], [3.0]], num_subsets=3, subset_size=2)
    assert mean == pytest.approx(297.5)
    assert std == pytest.approx(0.0)


def test_kernel_distance_is_unbiased_and_detects_a_shift():
    rng = np.random.default_rng(3)
    same = [metrics.kernel_distance(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)),
                                    num_subsets=1, subset_size=200)[0] for _ in range(40)]
    # Unbiased: the average over independent pairs is 0 within its standard error,
    # and single estimates fall on both sides of 0 (a biased V-statistic is always > 0).
    stderr = np.std(same) / math.sqrt(len(same))
    assert abs(np.mean(same)) < 3 * stderr
    assert min(same) < 0 < max(same)
    shifted, _ = metrics.kernel_distance(rng.normal(size=(200, 8)), rng.normal(0.5, 1.0, size=(200, 8)),
                                         num_subsets=10, subset_size=200)
    assert shifted > 20 * stderr
    assert shifted > 10 * np.std(same)


# --- classifier score and precision/recall ---------------------------------------------

def test_classifier_score_bounds():
    uniform = np.full((100, 10), 0.1)
    assert metrics.classifier_score(uniform, splits=1)[0] == pytest.approx(1.0)
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert metrics.classifier_score(one_hot, splits=1)[0] == pytest.approx(10.0, rel=1e-6)
    collapsed = np.eye(10)[np.zeros(100, int)]
    assert metrics.classifier_score(collapsed, splits=10)[0] == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError, match="softmax"):
        metrics.classifier_score(np.full((20, 10), 3.0), splits=1)


def test_precision_recall_cases():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(300, 4))
    assert metrics.precision_recall(real, real, k=3) == (1.0, 1.0)
    # Mode collapse: every fake is (almost) one real point: realistic, but covers nothing.
    collapsed = real[:1] + 1e-3 * rng.normal(size=(300, 4))
    precision, recall = metrics.precision_recall(real, collapsed, k=3)
    assert precision == 1.0 and recall < 0.05
    far = rng.normal(size=(300, 4)) + 100.0
    assert metrics.precision_recall(real, far, k=3) == (0.0, 0.0)


# --- real data against noise ----------------------------------------------------------

@pytest.fixture(scope="module")
def fashion_scores(shared_data):
    """Every metric for real-vs-real, real-vs-noise and real-vs-shuffled-pixels, 2,000 images each."""
    from keras_gans import data, features

    spec = "idx:" + os.path.join(shared_data, "fashion-mnist")
    train = data.open_source(spec, "train")
    test = data.open_source(spec, "test", limit=2000)
    extractor = features.classifier_for_dataset(train.images, spec)
    assert extractor.info["path"] == os.path.abspath(features.packaged_classifier_path())
    rng = np.random.default_rng(0)
    real = train.images[rng.choice(len(train), 2000, replace=False)]
    candidates = {
        "real": test.images,
        "noise": rng.integers(0, 256, size=test.images.shape, dtype=np.uint8),
        # Each image's own pixels in a random order: the right histogram, no structure.
        "shuffled": np.stack([rng.permutation(im.reshape(-1)).reshape(im.shape) for im in test.images]),
    }
    real_features = extractor.features(real)
    scores = {}
    for name, images in candidates.items():
        fake_features, probabilities = extractor.features_and_probabilities(images)
        scores[name] = metrics.all_metrics(real_features, fake_features, probabilities, kid_subsets=20)
    return scores


def test_real_vs_real_beats_noise_and_shuffled_pixels(fashion_scores):
    real = fashion_scores["real"]
    for name in ("noise", "shuffled"):
        other = fashion_scores[name]
        assert real["frechet_distance"] * 20 < other["frechet_distance"], (name, real, other)
        assert real["kernel_distance"] * 20 < other["kernel_distance"], (name, real, other)
        assert real["recall"] > other["recall"] + 0.5, (name, real, other)
        assert real["classifier_score"] > 2 * other["classifier_score"], (name, real, other)
    # Two real samples: KID within noise of 0, high precision and recall.
    assert abs(real["kernel_distance"]) < 0.01
    assert real["precision"] > 0.8 and real["recall"] > 0.8
    # NOT asserted: precision. With the classifier's features, noise and shuffled
    # pixels collapse into one tight cluster among the faint real images, inside
    # the real manifold's k-NN balls, so their precision (about 0.99 and 0.96)
    # is as high as real-vs-real's (0.88). Precision judges each sample's
    # realism, not diversity: it must be read with recall (docs/metrics.md).


# --- the training callback --------------------------------------------------------------

def test_quality_callback_logs_into_history_and_keeps_best(tmp_path):
    import keras

    from keras_gans import DCGAN, data, features
    from keras_gans.quality import QualityMetrics

    source = data.open_source("sample", limit=256)
    extractor = features.load_classifier(features.packaged_classifier_path())
    model = DCGAN(image_shape=(28, 28, 1), latent_dim=8, width=8, seed=0)
    model.compile(jit_compile=False)
    best = str(tmp_path / "best.keras")
    quality = QualityMetrics(source.images, extractor, metric="kid", every=2, num_samples=100, best_path=best)
    history = model.fit(data.make_dataset(source, 64, repeat=True), epochs=3, steps_per_epoch=1,
                        callbacks=[quality], verbose=0)
    kid = history.history["kid"]
    # Evaluated after epoch 2 (every=2) and after the last epoch, NaN in between.
    assert len(kid) == 3 and math.isnan(kid[0]) and np.isfinite(kid[1]) and np.isfinite(kid[2])
    assert kid[1] > 0.01  # an untrained generator is far from the data
    assert history.history["best_kid"][2] == pytest.approx(min(kid[1], kid[2]))
    assert [epoch for epoch, _ in quality.history] == [2, 3]
    generator = keras.saving.load_model(best)
    assert generator.output_shape == (None, 28, 28, 1)
