"""Multi-scale sliced Wasserstein distance (SWD) on image patches (Karras et al. 2018, ProGAN).

A feature-free sample-quality metric: it needs no pretrained network, so it
scores generators of any folder of images offline. For each level of a
Laplacian pyramid (the full resolution, then halved down to 16x16), random
7x7 patches are cut from every image; each set's patches are normalised per
channel (its own mean and standard deviation, as ProGAN does), flattened to
7*7*C-dimensional descriptors, and the two sets of descriptors are compared
by the sliced Wasserstein distance: the 1-D Wasserstein-1 distance (mean
absolute difference of the sorted values) of their projections on random
unit directions, averaged over the directions. The finest level measures
edges and fine detail, the coarsest the overall colour layout.

Values are raw distances; ProGAN's tables print them multiplied by 1e3.
Lower is better; identical sets score 0. Because each set is normalised by
its own statistics, a global per-channel brightness/contrast change is not
penalised; everything else about the patch distribution is.

    from keras_gans.evaluation import swd
    scores = swd.multiscale_swd(real_images, fake_images)   # {"swd_64": ..., "swd_32": ..., "swd_16": ..., "swd": mean}
"""

import numpy as np

from keras_gans.errors import UserError

# cv2.pyrDown's 5x5 binomial kernel (as ProGAN's code), applied as two 1-D passes.
_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16.0


def wasserstein_1d(a, b):
    """Wasserstein-1 distance of two equal-sized 1-D samples: the mean |difference| of the sorted values.

    Works along axis 0, so [N, K] arrays give K distances.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise UserError(f"wasserstein_1d needs samples of equal shape, got {a.shape} and {b.shape}")
    return np.mean(np.abs(np.sort(a, axis=0) - np.sort(b, axis=0)), axis=0, dtype=np.float64)


def random_directions(dim, num, seed=0):
    """`num` random unit vectors in `dim` dimensions, as a [dim, num] matrix."""
    directions = np.random.default_rng(seed).standard_normal((dim, num))
    return directions / np.linalg.norm(directions, axis=0, keepdims=True)


def sliced_wasserstein(a, b, directions=None, num_directions=512, seed=0, chunk=128):
    """Sliced Wasserstein distance of two equal-sized point sets [N, D]: W1 of their projections, averaged.

    Args:
        a, b: [N, D] descriptors.
        directions: [D, K] projection directions (normalised here to unit
            length); None draws `num_directions` random ones from `seed`.
    """
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.ndim != 2 or a.shape != b.shape:
        raise UserError(f"sliced_wasserstein needs two [N, D] arrays of equal shape, got {a.shape} and {b.shape}")
    if directions is None:
        directions = random_directions(a.shape[1], num_directions, seed)
    directions = np.asarray(directions, np.float64)
    if directions.ndim != 2 or directions.shape[0] != a.shape[1]:
        raise UserError(f"directions must be [{a.shape[1]}, K], got {directions.shape}")
    directions = (directions / np.linalg.norm(directions, axis=0, keepdims=True)).astype(np.float32)
    distances = []
    for start in range(0, directions.shape[1], chunk):  # bounds memory: N x chunk projections at a time
        d = directions[:, start:start + chunk]
        distances.append(wasserstein_1d(a @ d, b @ d))
    return float(np.mean(np.concatenate(distances)))


def _convolve(images, kernel_1d):
    """Separable 2-D convolution of [N, H, W, C] images, mirrored at the borders (scipy's "mirror")."""
    from scipy import ndimage

    return ndimage.convolve1d(ndimage.convolve1d(images, kernel_1d, axis=1, mode="mirror"),
                              kernel_1d, axis=2, mode="mirror")


def pyr_down(images):
    """Blur with the 5x5 binomial kernel and keep every other pixel (cv2.pyrDown); images [N, H, W, C]."""
    return _convolve(images, _BINOMIAL)[:, ::2, ::2, :]


def pyr_up(images):
    """Zero-interleave to twice the size and blur with 4x the kernel (cv2.pyrUp)."""
    n, h, w, c = images.shape
    up = np.zeros((n, 2 * h, 2 * w, c), images.dtype)
    up[:, ::2, ::2, :] = images
    return _convolve(up, _BINOMIAL * 2.0)  # 4x the 2-D kernel


def laplacian_pyramid(images, num_levels):
    """[finest band-pass level, ..., coarsest low-pass level]: level i has the size / 2**i.

    Summing `pyr_up` of each coarser level back up reconstructs the images exactly.
    """
    pyramid = [np.asarray(images, np.float32).copy()]
    for _ in range(1, num_levels):
        pyramid.append(pyr_down(pyramid[-1]))
        pyramid[-2] -= pyr_up(pyramid[-1])
    return pyramid


def patch_descriptors(level, patches_per_image, patch_size=7, seed=0):
    """Random `patch_size`^2 patches of every image of a pyramid level, normalised per channel: [N*P, S*S*C]."""
    n, h, w, c = level.shape
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, h - patch_size + 1, (n, patches_per_image))
    xs = rng.integers(0, w - patch_size + 1, (n, patches_per_image))
    offsets = np.arange(patch_size)
    rows = (ys[:, :, None] + offsets)[:, :, :, None]  # [N, P, S, 1]
    cols = (xs[:, :, None] + offsets)[:, :, None, :]  # [N, P, 1, S]
    patches = level[np.arange(n)[:, None, None, None], rows, cols]  # [N, P, S, S, C]
    patches = patches.reshape(-1, patch_size, patch_size, c).astype(np.float32)
    return normalize_per_channel(patches).reshape(len(patches), -1)


def normalize_per_channel(patches):
    """Subtract each channel's mean and divide by its standard deviation, over all patches and pixels."""
    mean = patches.mean(axis=(0, 1, 2), keepdims=True)
    std = patches.std(axis=(0, 1, 2), keepdims=True)
    return (patches - mean) / np.maximum(std, 1e-8)


def _as_float_images(images, name):
    images = np.asarray(images)
    if images.ndim != 4:
        raise UserError(f"{name} must be images [N, H, W, C], got shape {images.shape}")
    return images.astype(np.float32)


def multiscale_swd(real, fake, patches_per_image=64, patch_size=7, min_resolution=16, num_directions=512,
                   max_images=1024, seed=0):
    """Sliced Wasserstein distance of 7x7 patch statistics at each Laplacian pyramid level.

    Args:
        real, fake: images [N, H, W, C] on the same scale (e.g. both in
            [-1, 1], or both uint8). The first min(len(real), len(fake),
            max_images) of each are used, so both sets count equally.
        patches_per_image: random patches per image and level (ProGAN: 128).
        min_resolution: coarsest pyramid level (ProGAN: 16).
        num_directions: random projection directions (ProGAN: 4 x 128).

    Returns:
        {"swd_<size>": distance per level, finest first, "swd": their mean}.
    """
    real, fake = _as_float_images(real, "real"), _as_float_images(fake, "fake")
    if real.shape[1:] != fake.shape[1:]:
        raise UserError(f"real and fake images differ in shape: {real.shape[1:]} and {fake.shape[1:]}")
    h, w = real.shape[1:3]
    if min(h, w) < max(min_resolution, patch_size):
        raise UserError(f"images of {h}x{w} are too small for the SWD (at least {max(min_resolution, patch_size)}x"
                        f"{max(min_resolution, patch_size)})")
    n = min(len(real), len(fake), int(max_images))
    if n < 2:
        raise UserError(f"the SWD needs at least 2 images in each set, got {len(real)} real and {len(fake)} fake")
    num_levels = 1
    while min(h, w) // 2 ** num_levels >= min_resolution:
        num_levels += 1
    pyramids = [laplacian_pyramid(images[:n], num_levels) for images in (real, fake)]
    scores = {}
    for level, (real_level, fake_level) in enumerate(zip(*pyramids)):
        # Same patch positions for both sets (seeded), different per level.
        a = patch_descriptors(real_level, patches_per_image, patch_size, seed + level)
        b = patch_descriptors(fake_level, patches_per_image, patch_size, seed + level)
        scores[f"swd_{real_level.shape[1]}"] = sliced_wasserstein(a, b, num_directions=num_directions,
                                                                  seed=seed + 1000 + level)
    scores["swd"] = float(np.mean(list(scores.values())))
    return scores
