"""Sample grids of any model: the usual square grid, or one class per row for a conditional model.

The sample grids (`SampleGrids`) and TensorBoard (`monitoring`) both call
`grid_picture`, so they show the same picture.
"""

import math

import numpy as np

from keras_gans import images as image_utils


def grid_picture(model, num_images, seed=None, class_names=None, standing_statistics=True):
    """uint8 picture [H, W, C] of `num_images` samples of `seed`.

    Unconditional: `make_grid(model.generate(num_images, seed))`, as always.
    Conditional (`model.num_classes`): one row per class, each row
    ceil(num_images / num_classes) images of the same latents, so a column
    shows one latent across classes; rows are labelled with `class_names`
    (default: the class ids) in a white margin on the left.
    """
    num_classes = getattr(model, "num_classes", None)
    if num_classes is None:
        # Only an unconditional average has standing statistics (GAN.sampling_network).
        return image_utils.make_grid(model.generate(num_images, seed=seed, standing_statistics=standing_statistics))
    columns = max(1, math.ceil(num_images / num_classes))
    images = class_rows(model, columns, seed)
    picture = image_utils.make_grid(images, rows=num_classes)
    names = class_names if class_names is not None else [str(i) for i in range(num_classes)]
    return label_rows(picture, names, images.shape[1])


def class_rows(model, columns, seed=None):
    """[num_classes * columns, H, W, C] float images: class c in row c, column j from latent j of `seed`."""
    import tensorflow as tf

    from keras_gans.latents import latent_vectors

    if seed is None:
        seed = np.random.randint(0, 2**31 - 1)
    labels = np.repeat(np.arange(model.num_classes, dtype=np.int32), columns)
    z = tf.tile(latent_vectors(columns, model.latent_dim, seed), [model.num_classes, 1])
    return np.asarray(model.sampling_network()([z, tf.constant(labels)], training=False))


def label_rows(picture, names, row_height, padding=2):
    """`picture` with a white left margin holding `names[i]` beside row i (PIL's default font)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    names = [str(n) for n in names]
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    margin = max(measure.textbbox((0, 0), n, font=font)[2] for n in names) + 2 * padding
    channels = picture.shape[-1]
    canvas = Image.new("L" if channels == 1 else "RGB", (picture.shape[1] + margin, picture.shape[0]), "white")
    canvas.paste(Image.fromarray(picture[..., 0] if channels == 1 else picture), (margin, 0))
    draw = ImageDraw.Draw(canvas)
    for index, name in enumerate(names):
        top = padding + index * (row_height + padding)
        height = measure.textbbox((0, 0), name, font=font)[3]
        draw.text((padding, top + max(0, (row_height - height) // 2)), name, fill="black", font=font)
    result = np.asarray(canvas, dtype=np.uint8)
    return result[..., None] if channels == 1 else result
