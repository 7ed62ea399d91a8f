"""The generator as a versioned SavedModel that TF Serving loads as it is.

Layout (what `tensorflow_model_server --model_base_path=EXPORT_DIR` expects):

    EXPORT_DIR/<version>/saved_model.pb
    EXPORT_DIR/<version>/variables/
    EXPORT_DIR/<version>/assets.extra/tf_serving_warmup_requests

Signatures (H, W, C: the model's image shape; all images are NHWC):

  serving_default  z: float32 [None, latent_dim]
                   -> images: float32 [None, H, W, C] in [-1, 1]
  generate         num_images: int32 [], seed: int64 []
                   -> images: uint8 [num_images, H, W, C]
  generate_png     num_images: int32 [], seed: int64 []
                   -> png_bytes: string [num_images] (one PNG per image)
  interpolate      seed_start: int64 [], seed_end: int64 [], steps: int32 []
                   -> images: uint8 [steps, H, W, C]

`generate(num_images, seed)` draws the latents with
`keras_gans.models.gan.latent_vectors`, the function `model.generate(n, seed)`
uses, so a seed names the same images in Python and behind TF Serving.
`interpolate` walks the great circle (slerp) from the first latent of
`seed_start` to the first latent of `seed_end`, so its first and last images
are `generate(1, seed_start)` and `generate(1, seed_end)`.
Counts (`num_images`, `steps`) are bounded to [1, MAX_IMAGES] (`steps` >= 2),
and `serving_default` takes at most MAX_IMAGES rows of `z`, checked before
any work, so one request cannot exhaust the server's memory.

A class-conditional model (`num_classes`) gets the same signatures with a
`label` input, plus `class_names` (`keras_gans.serving.conditional`).
"""

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from keras_gans.errors import UserError
from keras_gans.fileio import describe_write_error, is_write_error
from keras_gans.images import to_uint8
from keras_gans.models.gan import latent_vectors
from keras_gans.serving import conditional
from keras_gans.serving.graph_ops import MAX_IMAGES, checked_count as _checked_count, slerp  # noqa: F401  (importable from here)
from keras_gans.serving.versions import next_version
from keras_gans.serving.warmup import WARMUP_FILE, warmup_requests, write_warmup_requests



def export_generator(model, export_dir, version=None, allow_untrained=False, warmup=True, class_names=None):
    """Writes the generator of `model` to export_dir/<version>/ and returns that path.

    Only the generator's weights are written (BatchNorm statistics included);
    the discriminator, the optimisers and the training noise state are not.
    The generator runs in inference mode in every signature.

    Versions increase and are never overwritten. The version is written to a
    hidden temporary folder inside export_dir (TF Serving ignores names that
    are not integers) and renamed into place, so no half-written version is
    ever visible, and nothing is left behind when writing fails.

    Args:
        model: a keras_gans model (`GAN`, `DCGAN`, `WGAN`, `WGANGP`), or any
            object with a built `generator` and a `latent_dim`.
        export_dir: the model base path; created if missing.
        version: positive integer; default: one more than the highest present.
        allow_untrained: export a generator that was never trained (its
            optimiser made no step), e.g. to try a serving setup. Without it
            such a model is refused: random weights behind a server are
            almost always a mistake.
        warmup: write assets.extra/tf_serving_warmup_requests (one request
            per signature) so TF Serving traces every signature at load time.
        class_names: a conditional model's class names, in id order (the
            `class_names` signature); default: "0", "1", ...

    Returns:
        The path of the written version folder.

    Raises:
        UserError: the model has no built generator or was never trained,
            export_dir is a file, the version exists or is not positive, or
            writing failed (one line naming the cause: disk full, permission
            denied, missing folder).

    Example:
        path = export_generator(model, "runs/dcgan/export")  # .../export/1
    """
    generator, latent_dim, image_shape = _check_exportable(model, allow_untrained)
    export_dir = os.fspath(export_dir)
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise UserError(f"export directory {export_dir!r} is a file: choose a folder path")
    version = next_version(export_dir) if version is None else _check_version(version)
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target):
        raise UserError(f"export version {target} already exists: versions are never overwritten; omit the version")
    try:
        os.makedirs(export_dir, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
    except OSError as error:
        raise UserError(f"cannot create the export: {describe_write_error(error, export_dir)}") from None

    num_classes = getattr(model, "num_classes", None)
    if num_classes is None:
        archive, requests = _build_archive(generator, latent_dim), warmup_requests(latent_dim)
    else:
        class_names = [str(i) for i in range(num_classes)] if class_names is None else list(class_names)
        if len(class_names) != num_classes:
            raise UserError(f"class_names has {len(class_names)} names but the model has num_classes={num_classes}")
        archive = conditional.build_archive(generator, latent_dim, num_classes, class_names)
        requests = conditional.warmup_requests(latent_dim)
    try:
        # mkdtemp makes the folder private (0700); a server running as another
        # user must be able to read the version, as any folder made by makedirs.
        os.chmod(staging, 0o777 & ~_umask())
        archive.write_out(staging, verbose=False)
        if warmup:
            write_warmup_requests(os.path.join(staging, WARMUP_FILE), requests)
        if num_classes is not None:
            conditional.write_class_names(staging, class_names)
        if os.path.exists(target):  # another writer took this version meanwhile
            raise UserError(f"export version {target} appeared while exporting: export again")
        os.rename(staging, target)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        # A full disk surfaces as TensorFlow's ResourceExhaustedError, not an OSError: one line either way.
        if is_write_error(error):
            raise UserError(f"export failed: {describe_write_error(error, target)}") from None
        raise
    return target


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_version(version):
    if isinstance(version, bool) or not str(version).isdigit() or int(version) <= 0:
        raise UserError(f"export version must be a positive integer, got {version!r}")
    return int(version)


def _check_exportable(model, allow_untrained):
    """(generator, latent_dim, image_shape) of a model ready to export, or a UserError."""
    # The network samples come from: the average when the model keeps one (GAN(ema_decay=...)), with
    # standing BatchNorm statistics (GAN.sampling_network).
    generator = model.sampling_network() if hasattr(model, "sampling_network") else getattr(model, "generator", None)
    latent_dim = getattr(model, "latent_dim", None)
    if generator is None or latent_dim is None:
        raise UserError(
            f"cannot export a {type(model).__name__}: export_generator needs a keras_gans model "
            "(GAN, DCGAN, WGAN, WGANGP) with a generator and a latent_dim"
        )
    if not generator.built or not generator.weights:
        raise UserError(
            "the generator has not been built (it has no weights yet): call it once, "
            "e.g. model.generate(1), or fit the model before exporting"
        )
    if not allow_untrained:
        optimizer = getattr(model, "g_optimizer", None)
        steps = 0 if optimizer is None else int(keras.ops.convert_to_numpy(optimizer.iterations))
        if steps == 0:
            raise UserError(
                "the model has never been trained (its generator optimiser made no step): fit it before "
                "exporting, or pass allow_untrained=True to export random weights (e.g. to test a server)"
            )
    # One inference call checks the network contract before anything is written.
    z = tf.zeros([1, latent_dim])
    images = generator(z if getattr(model, "num_classes", None) is None else [z, tf.zeros([1], tf.int32)], training=False)
    image_shape = tuple(images.shape[1:])
    expected = tuple(getattr(model, "image_shape", image_shape))
    if len(image_shape) != 3 or image_shape != expected:
        raise UserError(
            f"the generator returns images of shape {image_shape} but the model's image_shape is "
            f"{expected}: a generator must map [B, latent_dim] to [B, H, W, C]"
        )
    return generator, int(latent_dim), image_shape


def _build_archive(generator, latent_dim):
    """An ExportArchive holding the generator and the four serving signatures."""

    def sample(z):
        return tf.cast(generator(z, training=False), tf.float32)

    def serving_default(z):
        batch = tf.shape(z)[0]
        check = tf.debugging.assert_less_equal(
            batch, MAX_IMAGES, message=f"serving_default takes at most {MAX_IMAGES} rows of z: split the request"
        )
        with tf.control_dependencies([check]):
            z = tf.identity(z)
        return {"images": sample(z)}

    def generate(num_images, seed):
        num_images = _checked_count(num_images, "num_images", 1)
        return {"images": to_uint8(sample(latent_vectors(num_images, latent_dim, seed)))}

    def generate_png(num_images, seed):
        images = generate(num_images, seed)["images"]
        return {"png_bytes": tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string)}

    def interpolate(seed_start, seed_end, steps):
        steps = _checked_count(steps, "steps", 2)
        start = latent_vectors(1, latent_dim, seed_start)[0]
        end = latent_vectors(1, latent_dim, seed_end)[0]
        z = slerp(start, end, tf.linspace(0.0, 1.0, steps))
        return {"images": to_uint8(sample(z))}

    count = tf.TensorSpec([], tf.int32, name="num_images")
    seed = tf.TensorSpec([], tf.int64, name="seed")
    # No archive.track(generator): the archive then saves the variables the
    # endpoints capture AND, a second time, the Keras wrappers of the same
    # weights (Keras 3.15), doubling the checkpoint. Captured variables are
    # all the signatures need.
    archive = keras.export.ExportArchive()
    archive.add_endpoint(
        "serving_default", serving_default, input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name="z")]
    )
    archive.add_endpoint("generate", generate, input_signature=[count, seed])
    archive.add_endpoint("generate_png", generate_png, input_signature=[count, seed])
    archive.add_endpoint(
        "interpolate",
        interpolate,
        input_signature=[
            tf.TensorSpec([], tf.int64, name="seed_start"),
            tf.TensorSpec([], tf.int64, name="seed_end"),
            tf.TensorSpec([], tf.int32, name="steps"),
        ],
    )
    return archive
