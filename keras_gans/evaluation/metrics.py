"""Sample-quality metrics on features from any extractor: FD/FID, KID, classifier score, precision/recall.

Every function takes plain numpy arrays of features ([N, D], one row per
image) or class probabilities ([N, K]) and returns Python floats; which
network produced the features is the caller's business (`keras_gans.features`).
With InceptionV3 pool features, `frechet_distance` is the FID of Heusel et
al. (2017) and `kernel_distance` the KID of Binkowski et al. (2018); with the
package's Fashion-MNIST classifier they are the offline analogues TF-GAN uses
for MNIST. Numbers from different extractors are not comparable.

Everything is computed in float64: covariance traces of a few thousand
features lose several digits in float32, and FID differences between good
models are small.

Example:
    real, fake = extractor.features(real_images), extractor.features(fake_images)
    fid = metrics.frechet_distance_from_features(real, fake)
    kid, kid_std = metrics.kernel_distance(real, fake)
"""

import numpy as np
import scipy.linalg


def _as_features(features, name="features"):
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [num_images, feature_dim], got shape {features.shape}")
    if len(features) < 2:
        raise ValueError(f"{name} needs at least 2 rows to estimate statistics, got {len(features)}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} contains NaN or infinite values (a diverged generator?)")
    return features


def feature_statistics(features):
    """Mean [D] and unbiased covariance [D, D] of features [N, D], in float64."""
    features = _as_features(features)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix):
    """Symmetric square root of a (numerically) positive semi-definite matrix."""
    eigenvalues, eigenvectors = scipy.linalg.eigh(matrix)
    # Rank-deficient covariances (fewer samples than dimensions, dead ReLU units)
    # have eigenvalues of -1e-12 instead of 0; clipping them keeps the root real.
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Squared Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

        d^2 = ||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))

    The trace of the matrix root is computed without `scipy.linalg.sqrtm` of
    the non-symmetric product sigma1 sigma2 (which goes complex or NaN when a
    covariance is singular): with A = sigma1^(1/2), the product is similar to
    the PSD matrix A sigma2 A, so tr((sigma1 sigma2)^(1/2)) is the sum of the
    square roots of A sigma2 A's eigenvalues. Real, exact for singular inputs,
    and symmetric in its arguments up to round-off.

    Returns:
        A float >= 0 (tiny negative round-off is clipped to 0).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(
            f"statistics do not match: means {mu1.shape} and {mu2.shape}, covariances {sigma1.shape} and {sigma2.shape}"
        )
    root1 = _psd_sqrt((sigma1 + sigma1.T) / 2)
    middle = root1 @ sigma2 @ root1
    eigenvalues = scipy.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def frechet_distance_from_features(features1, features2):
    """Frechet distance between the Gaussians fitted to two feature sets (FID with Inception features)."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def _polynomial_kernel(x, y):
    # KID's kernel: k(x, y) = (x.y / d + 1)^3, no tuning parameter.
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def kernel_distance(features1, features2, num_subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: the unbiased MMD^2 estimate with a cubic polynomial kernel.

    Averaged over `num_subsets` random subsets of `subset_size` rows from each
    set (Binkowski et al. 2018). Unbiased: for two samples of one distribution
    its expectation is exactly 0, so single values scatter around 0 and may
    be negative.

    Returns:
        (mean, standard deviation over the subsets), floats.
    """
    features1 = _as_features(features1, "features1")
    features2 = _as_features(features2, "features2")
    if features1.shape[1] != features2.shape[1]:
        raise ValueError(f"feature sizes differ: {features1.shape[1]} and {features2.shape[1]}")
    m = min(int(subset_size), len(features1), len(features2))
    if m < 2:
        raise ValueError("kernel_distance needs subsets of at least 2 rows")
    rng = np.random.default_rng(seed)
    estimates = np.empty(int(num_subsets))
    for i in range(int(num_subsets)):
        x = features1[rng.choice(len(features1), m, replace=False)]
        y = features2[rng.choice(len(features2), m, replace=False)]
        k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
        # Unbiased: the diagonals k(x_i, x_i) are left out of the within-set means.
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        estimates[i] = within - 2.0 * k_xy.mean()
    return float(estimates.mean()), float(estimates.std())


def classifier_score(probabilities, splits=10):
    """Inception-score-style classifier score: exp(E_x KL(p(y|x) || p(y))), per split.

    High when each image is confidently one class (sharp p(y|x)) and the
    classes are evenly covered (broad p(y)); ranges from 1 to the number of
    classes. With InceptionV3's ImageNet softmax this is the Inception Score of
    Salimans et al. (2016).

    Args:
        probabilities: [N, K] class probabilities (rows sum to 1).
        splits: the score is computed on this many disjoint parts.

    Returns:
        (mean, standard deviation over the splits), floats.
    """
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim != 2 or len(probabilities) < splits:
        raise ValueError(f"probabilities must be [N >= splits={splits}, K], got shape {probabilities.shape}")
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3) or probabilities.min() < 0:
        raise ValueError("probabilities must be non-negative rows summing to 1 (pass softmax outputs, not logits)")
    eps = 1e-12
    scores = []
    for part in np.array_split(probabilities, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + eps) - np.log(marginal + eps)), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _squared_distances(x, y):
    distances = np.sum(x * x, axis=1)[:, None] - 2.0 * x @ y.T + np.sum(y * y, axis=1)[None, :]
    return np.maximum(distances, 0.0)


def _knn_radii(features, k, chunk):
    """Squared distance from each row to its k-th nearest other row."""
    radii = np.empty(len(features))
    for start in range(0, len(features), chunk):
        block = _squared_distances(features[start:start + chunk], features)
        # Index k, not k - 1: each row's nearest neighbour is itself, at distance 0.
        radii[start:start + chunk] = np.partition(block, k, axis=1)[:, k]
    return radii


def _coverage(queries, manifold, radii, chunk):
    """Fraction of `queries` inside at least one k-NN ball around the `manifold` rows."""
    inside = 0
    for start in range(0, len(queries), chunk):
        block = _squared_distances(queries[start:start + chunk], manifold)
        inside += int(np.sum(np.any(block <= radii[None, :], axis=1)))
    return inside / len(queries)


def precision_recall(real_features, fake_features, k=3, chunk=1024):
    """Improved precision and recall of the generated manifold (Kynkaanniemi et al. 2019).

    Each set's manifold is the union of balls around its points reaching their
    k-th nearest neighbour. Precision: the fraction of generated samples inside
    the real manifold (are the samples realistic?). Recall: the fraction of real
    samples inside the generated manifold (is the data covered, or did the
    generator collapse onto a few modes?).

    Returns:
        (precision, recall), floats in [0, 1].
    """
    real = _as_features(real_features, "real_features")
    fake = _as_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} and {fake.shape[1]}")
    k = int(k)
    if not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"k must be in [1, {min(len(real), len(fake)) - 1}] for these sample sizes, got {k}")
    precision = _coverage(fake, real, _knn_radii(real, k, chunk), chunk)
    recall = _coverage(real, fake, _knn_radii(fake, k, chunk), chunk)
    return float(precision), float(recall)


def all_metrics(real_features, fake_features, fake_probabilities=None, kid_subset_size=1000, kid_subsets=100,
                k=3, seed=0):
    """Every metric above in one dict, as the evaluation report and the training callback write them.

    Keys: frechet_distance, kernel_distance, kernel_distance_std, precision,
    recall, and (given `fake_probabilities`) classifier_score, classifier_score_std.
    """
    kid, kid_std = kernel_distance(real_features, fake_features, kid_subsets, kid_subset_size, seed)
    precision, recall = precision_recall(real_features, fake_features, k)
    results = {
        "frechet_distance": frechet_distance_from_features(real_features, fake_features),
        "kernel_distance": kid,
        "kernel_distance_std": kid_std,
        "precision": precision,
        "recall": recall,
    }
    if fake_probabilities is not None:
        splits = 10 if len(fake_probabilities) >= 100 else 1
        results["classifier_score"], results["classifier_score_std"] = classifier_score(fake_probabilities, splits)
    return results
