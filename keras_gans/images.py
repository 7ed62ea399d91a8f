"""Sample grids, GIFs and loss plots: the pictures a run writes, and the pixel conversion they share."""

import math
import os

import numpy as np
import tensorflow as tf


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255], rounded half to even and clipped.

    The one conversion everywhere (grids, the exported `generate` signature,
    the sampling CLI), so a seed gives the same pixels in each. A numpy
    array (or list) in gives a numpy array out; a tensor in, also inside a
    `tf.function`, gives a tensor.
    """
    pixels = tf.cast(tf.clip_by_value(tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
    return pixels if tf.is_tensor(images) else pixels.numpy()


def as_unit_range(images):
    """uint8 [0, 255] -> float32 [-1, 1]; float images (already in [-1, 1]) just become float32 numpy."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 127.5 - 1.0
    return images.astype(np.float32)


def make_grid(images, rows=None, padding=2):
    """Tiles [N, H, W, C] images (uint8, or float in [-1, 1]) into one uint8 picture with white gaps.

    Rows default to ceil(sqrt(N)), so the grid is as close to square as possible.
    """
    images = np.asarray(images)
    images = images if images.dtype == np.uint8 else to_uint8(images)
    count, height, width, channels = images.shape
    rows = rows or int(math.ceil(math.sqrt(count)))
    cols = int(math.ceil(count / rows))
    grid = np.full(
        (rows * (height + padding) + padding, cols * (width + padding) + padding, channels), 255, np.uint8
    )
    for index in range(count):
        r, c = divmod(index, cols)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top:top + height, left:left + width] = images[index]
    return grid


def save_png(picture, path):
    """Writes a uint8 [H, W, 1 or 3] array as a PNG (atomically: temp file, then rename)."""
    from PIL import Image

    picture = picture[..., 0] if picture.shape[-1] == 1 else picture
    tmp = path + ".tmp.png"
    Image.fromarray(picture).save(tmp, format="PNG")
    os.replace(tmp, path)


def save_grid(images, path, scale=1):
    """make_grid(images), enlarged `scale` times (nearest neighbour), saved as a PNG at `path`."""
    picture = make_grid(images)
    if scale > 1:
        picture = picture.repeat(scale, axis=0).repeat(scale, axis=1)
    save_png(picture, path)
    return path


def save_gif(paths, path, duration=0.3):
    """Animates PNG frames (e.g. the per-epoch fixed-latent grids) into a looping GIF."""
    import imageio.v2 as imageio

    frames = [imageio.imread(p) for p in paths]
    if not frames:
        return None
    tmp = path + ".tmp.gif"
    imageio.mimsave(tmp, frames, format="GIF", duration=duration, loop=0)
    os.replace(tmp, path)
    return path


def save_loss_plot(history, path, keys=None):
    """Plots per-epoch losses from a {name: [values]} history into a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    keys = keys or [k for k in history if k.endswith("loss")]
    figure, axis = plt.subplots(figsize=(6, 4), dpi=100)
    for key in keys:
        values = history.get(key, [])
        axis.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=key)
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    tmp = path + ".tmp.png"
    figure.savefig(tmp, format="png")
    plt.close(figure)
    os.replace(tmp, path)
    return path
