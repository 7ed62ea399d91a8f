"""Sample grids, GIFs and loss plots: the pictures a run writes."""

import math
import os

import numpy as np

from keras_gans.data import to_uint8


def make_grid(images, rows=None, padding=2):
    """Tiles [N, H, W, C] images in [-1, 1] into one uint8 [rows*H, cols*W, C] picture."""
    images = to_uint8(images)
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
    Image.fromarray(picture).save(tmp)
    os.replace(tmp, path)


def save_grid(images, path, scale=1):
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
