"""The multi-scale sliced Wasserstein distance (keras_gans.evaluation.swd), against hand-computed values."""

import numpy as np
import pytest

from keras_gans.errors import UserError
from keras_gans.evaluation import swd


def test_wasserstein_1d_is_the_mean_sorted_difference():
    # sorted: [0, 1, 3] and [1, 2, 2] -> |0-1| + |1-2| + |3-2| = 3, over 3 points = 1.
    assert swd.wasserstein_1d([3.0, 0.0, 1.0], [2.0, 1.0, 2.0]) == pytest.approx(1.0)
    # Column-wise on [N, K]: the second column is the first shifted by 5.
    a = np.array([[0.0, 0.0], [2.0, 2.0]])
    b = np.array([[1.0, 5.0], [3.0, 7.0]])
    np.testing.assert_allclose(swd.wasserstein_1d(a, b), [1.0, 5.0])


def test_sliced_wasserstein_of_identical_sets_is_zero():
    points = np.random.default_rng(0).standard_normal((200, 5))
    assert swd.sliced_wasserstein(points, points[::-1]) == 0.0


def test_sliced_wasserstein_in_one_dimension_is_w1():
    a = np.array([[0.0], [1.0], [3.0]])
    b = np.array([[2.0], [1.0], [2.0]])
    # Every unit direction in 1-D is +1 or -1, and W1 does not care about the sign.
    assert swd.sliced_wasserstein(a, b, num_directions=7) == pytest.approx(1.0)


def test_sliced_wasserstein_of_a_shifted_set_along_given_directions():
    points = np.random.default_rng(1).standard_normal((50, 2))
    shifted = points + np.array([3.0, 4.0])
    # A shift c moves every projection on unit d by <d, c>: e1 -> 3, e2 -> 4, (1, 1)/sqrt(2) -> 7/sqrt(2).
    assert swd.sliced_wasserstein(points, shifted, directions=np.eye(2)) == pytest.approx(3.5)
    diagonal = np.array([[1.0], [1.0]])  # normalised inside
    assert swd.sliced_wasserstein(points, shifted, directions=diagonal) == pytest.approx(7 / np.sqrt(2), rel=1e-5)


def test_laplacian_pyramid_levels_and_reconstruction():
    images = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    pyramid = swd.laplacian_pyramid(images, 3)
    assert [level.shape[1] for level in pyramid] == [32, 16, 8]
    rebuilt = pyramid[-1]
    for level in reversed(pyramid[:-1]):
        rebuilt = level + swd.pyr_up(rebuilt)
    np.testing.assert_allclose(rebuilt, images, atol=1e-5)


def test_pyramid_of_a_constant_image_has_no_detail():
    images = np.full((1, 16, 16, 1), 0.5, np.float32)
    fine, coarse = swd.laplacian_pyramid(images, 2)
    # The binomial kernel sums to 1 (down) and, after zero-interleaving, 4 (up): a constant passes unchanged.
    np.testing.assert_allclose(coarse, 0.5, atol=1e-6)
    np.testing.assert_allclose(fine, 0.0, atol=1e-6)


def test_patches_are_normalised_per_channel():
    level = np.random.default_rng(3).uniform(0, 255, (8, 16, 16, 2)).astype(np.float32)
    level[..., 1] = level[..., 1] * 0.1 + 7
    descriptors = swd.patch_descriptors(level, patches_per_image=4, patch_size=7).reshape(-1, 7, 7, 2)
    assert descriptors.shape == (32, 7, 7, 2)
    np.testing.assert_allclose(descriptors.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(descriptors.std(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_multiscale_swd_of_identical_sets_is_zero_at_every_level():
    images = np.random.default_rng(4).uniform(-1, 1, (6, 32, 32, 3)).astype(np.float32)
    scores = swd.multiscale_swd(images, images.copy(), patches_per_image=8, num_directions=16)
    assert scores == {"swd_32": 0.0, "swd_16": 0.0, "swd": 0.0}


def test_multiscale_swd_ignores_a_per_channel_affine_change():
    # Each set's patches are normalised by its own statistics (as ProGAN): 2x + 1 has the same patches.
    images = np.random.default_rng(5).uniform(-1, 1, (6, 16, 16, 3)).astype(np.float32)
    scores = swd.multiscale_swd(images, 2 * images + 1, patches_per_image=8, num_directions=16)
    assert scores["swd"] == pytest.approx(0.0, abs=1e-5)


def test_multiscale_swd_uses_equal_counts_and_rejects_bad_input():
    rng = np.random.default_rng(7)
    a = rng.uniform(-1, 1, (5, 16, 16, 1)).astype(np.float32)
    # Only the first min(len) images of each set are compared: a's first 3 against themselves -> 0.
    assert swd.multiscale_swd(a, a[:3], patches_per_image=4, num_directions=8)["swd"] == 0.0
    with pytest.raises(UserError, match="differ in shape"):
        swd.multiscale_swd(a, rng.uniform(-1, 1, (5, 16, 16, 3)))
    with pytest.raises(UserError, match="too small"):
        swd.multiscale_swd(a[:, :8, :8], a[:, :8, :8])
    with pytest.raises(UserError, match=r"\[N, H, W, C\]"):
        swd.multiscale_swd(a[0], a[0])
    with pytest.raises(UserError, match="at least 2"):
        swd.multiscale_swd(a[:1], a[:1])


def test_evaluate_reports_the_swd():
    from keras_gans.evaluation import evaluate

    # A "generator" of uniform noise, scored on the packaged sample (28x28: one pyramid level, 28).
    def noise(z):
        return np.random.default_rng(0).uniform(-1, 1, (len(z), 28, 28, 1)).astype(np.float32)

    report = evaluate.evaluate(evaluate.Generator(noise, 8, {}), "sample", num_samples=40, kid_subset_size=20, k=3)
    values = report["metrics"]
    assert set(values) >= {"swd", "swd_28"} and "swd_14" not in values
    assert values["swd"] == values["swd_28"] > 0.05  # noise against clothes; two real sets score ~0.01
