"""One image file -> one uint8 array of the requested size and channels (PIL).

Every file is decoded on its own, so one bad file costs only itself: the
caller skips files for which `decode_file` raises `BadImage`.
"""

import math

import numpy as np
from PIL import Image, ImageOps

# Modes that hold a single grey channel (8, 16 or 32 bits, or floats).
GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
# Modes whose last band is an alpha channel.
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
BACKGROUNDS = {"white": 255, "black": 0}
CROPS = ("none", "center")


class BadImage(Exception):
    """A file that is not a decodable image (the message says why)."""


def channels_of(path):
    """1 for a greyscale image, 3 otherwise; reads the header only.

    A 16-bit greyscale PNG (mode I;16 or I) counts as grey, as it is.
    """
    try:
        with Image.open(path) as image:
            return 1 if image.mode in GRAY_MODES else 3
    except Exception as error:  # noqa: BLE001 - PIL raises many types for bad files
        raise BadImage(_reason(error)) from None


# EXIF orientations that turn the stored picture by 90 degrees (5-8): height and width swap.
TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)
EXIF_ORIENTATION = 0x0112


def size_of(path):
    """(height, width) from the header, as the picture is shown (its EXIF orientation applied)."""
    with Image.open(path) as image:
        if _orientation(image) in TRANSPOSED_ORIENTATIONS:
            return image.width, image.height
        return image.height, image.width


def _orientation(image):
    try:
        return image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block: show the picture as stored
        return 1


def upright(image, orientation):
    """`image` as cameras and viewers show it: turned by its EXIF `orientation` tag (`_orientation`;
    phone photos are stored sideways with a tag saying so); unchanged without one."""
    if orientation in (1, None):
        return image
    return ImageOps.exif_transpose(image)


def decode_file(path, size, channels, crop="none", background="white"):
    """Decodes `path` into uint8 [height, width, channels].

    Args:
        path: an image file (its format is found from its content, not its name).
        size: (height, width) of the result.
        channels: 1 (grey) or 3 (RGB).
        crop: "none" resizes the whole image (aspect ratio not kept);
            "center" first takes the largest centred square.
        background: "white" or "black", the colour transparent pixels are
            composited onto.

    Raises:
        BadImage: the file is truncated, empty or not an image.
    """
    try:
        with Image.open(path) as image:
            orientation = _orientation(image)
            if image.format == "JPEG":
                # draft works on the stored picture, which an EXIF orientation may have turned sideways.
                draft(image, size[::-1] if orientation in TRANSPOSED_ORIENTATIONS else size, crop)
            image.load()  # decode now: a truncated file fails here, not later
            image = to_8bit(upright(image, orientation), background)
    except BadImage:
        raise
    except Exception as error:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError, ...
        raise BadImage(_reason(error)) from None
    image = center_crop(image) if crop == "center" else image
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    if channels == 1 and image.mode != "L":
        image = image.convert("L")
    array = np.asarray(image, np.uint8)
    if channels == 3 and array.ndim == 2:
        array = np.repeat(array[..., np.newaxis], 3, axis=-1)
    return array.reshape(height, width, channels)


def draft(image, size, crop):
    """Lets libjpeg decode a large JPEG at 1/2, 1/4 or 1/8 scale, when that still covers `size`.

    Several times faster for photos much larger than the model's images
    (a 1024x1024 photo for a 64x64 model decodes at 128x128), and the DCT
    scaling is itself an antialiased reduction.
    """
    width, height = image.size
    target_height, target_width = size
    if crop == "center":
        scale = max(target_width, target_height) / min(width, height)
    else:
        scale = max(target_width / width, target_height / height)
    if scale < 0.5:
        image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))


def to_8bit(image, background="white"):
    """Any PIL image -> an "L" or "RGB" image with 8 bits per channel.

    16-bit and 32-bit grey is scaled to 8 bits (PIL's own convert("L") clips
    values above 255, turning most of a 16-bit image white); transparency is
    composited onto `background` (dropping alpha would show whatever colour
    happens to be stored under transparent pixels).
    """
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        values = np.asarray(image, np.float64)
        # "I" holds 16-bit PNGs too; only a value beyond 16 bits means 32-bit data.
        top = 65535.0 if values.max(initial=0) <= 65535 else float(2**32 - 1)
        return Image.fromarray(np.round(np.clip(values, 0, None) * (255.0 / top)).astype(np.uint8), "L")
    if image.mode == "F":
        values = np.asarray(image, np.float64)
        scale = 255.0 if values.max(initial=0) <= 1.0 else 1.0  # floats in [0, 1] or in [0, 255]
        return Image.fromarray(np.round(np.clip(values * scale, 0, 255)).astype(np.uint8), "L")
    if image.mode == "P" or image.mode == "PA":
        # A palette may carry transparency (tRNS); RGBA keeps it for compositing.
        image = image.convert("RGBA")
    if image.mode in ALPHA_MODES:
        return composite(image, BACKGROUNDS[background])
    if image.mode == "1":
        return image.convert("L")
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    return image


def composite(image, background):
    """Alpha-composites an image with alpha onto a flat grey level (0..255)."""
    grey = image.mode in ("LA", "La")
    if image.mode in ("La", "RGBa"):  # premultiplied: un-premultiply first
        image = image.convert("LA" if grey else "RGBA")
    values = np.asarray(image, np.float64)
    colour, alpha = values[..., :-1], values[..., -1:] / 255.0
    out = np.round(colour * alpha + background * (1.0 - alpha)).astype(np.uint8)
    return Image.fromarray(out[..., 0], "L") if grey else Image.fromarray(out, "RGB")


def center_crop(image):
    """The largest centred square of `image` (odd leftovers go right/bottom)."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side)) if side != max(width, height) else image


def _reason(error):
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:120]
