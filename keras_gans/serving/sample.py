"""Samples images from an exported generator: a PNG grid and/or a .npy array.

Needs only TensorFlow, numpy, Pillow and keras_gans' small file helpers: no
training code, no keras_gans model. Any SavedModel written by `keras_gans.export` works, on a
machine that never saw the training run.

    python -m keras_gans.sample --export_dir runs/dcgan/export --num 16 --seed 0 --png grid.png
    python -m keras_gans.sample --export_dir runs/dcgan/export/3 --signature interpolate \
        --seed 0 --seed_end 1 --num 8 --png walk.png --npy walk.npy

`--export_dir` is either the model base path (its highest complete integer
version is used, as TF Serving does; an incomplete newer one is skipped with a
warning) or one version folder. The output paths are checked before any work.

Signatures (see `keras_gans.export`):
  generate         --num images from --seed; .npy holds uint8 [num, H, W, C]
  serving_default  the same latents as `generate` (stateless N(0, I) from
                   --seed) fed as `z`; .npy holds float32 [num, H, W, C] in [-1, 1]
  interpolate      --num steps from the latent of --seed to that of --seed_end;
                   .npy holds uint8 [num, H, W, C]

A class-conditional export takes `--label` (a class id or a class name from
its `class_names` signature): every image is of that class. Without it,
`generate` and `serving_default` draw the classes from --seed (as
`model.generate(n, seed)` does); `interpolate` needs it.
"""

import argparse
import sys

from keras_gans.errors import UserError
from keras_gans.fileio import check_writable, describe_write_error
from keras_gans.images import make_grid, save_png
from keras_gans.latents import class_labels, latent_vectors
from keras_gans.serving.versions import load_saved_model, resolve_version_dir

MAX_IMAGES = 1024  # the bound the exported signatures enforce
SIGNATURES = ("generate", "serving_default", "interpolate")

# The old name of this module's error, kept for callers that catch it.
SampleError = UserError


def sample(export_dir, num=16, seed=0, signature="generate", seed_end=None, label=None):
    """Runs one signature of the export; returns (images numpy array, version folder).

    The images are what the signature returns: uint8 for `generate` and
    `interpolate`, float32 in [-1, 1] for `serving_default`.
    """
    check_request(num, signature, seed_end)
    path = resolve_version_dir(export_dir)
    import tensorflow as tf

    loaded = load_saved_model(path)
    if signature not in loaded.signatures:
        raise UserError(
            f"the export at {path} has no {signature!r} signature (it has: {', '.join(sorted(loaded.signatures))}); "
            "re-export it with this version of keras_gans or choose another --signature"
        )
    function = loaded.signatures[signature]
    extra = {}
    if "class_names" in loaded.signatures:
        extra["label"] = tf.constant(resolve_label(loaded, label, signature, path), tf.int32)
    elif label is not None:
        raise UserError(f"--label needs a class-conditional export; the one at {path} is unconditional: drop --label")
    if signature == "generate":
        outputs = function(num_images=tf.constant(num, tf.int32), seed=tf.constant(seed, tf.int64), **extra)
    elif signature == "interpolate":
        outputs = function(
            seed_start=tf.constant(seed, tf.int64),
            seed_end=tf.constant(seed_end, tf.int64),
            steps=tf.constant(num, tf.int32),
            **extra,
        )
    else:
        latent_dim = function.structured_input_signature[1]["z"].shape[-1]
        if extra:  # one label per row; -1: the classes `generate` would draw from this seed
            num_classes = len(loaded.signatures["class_names"]()["class_names"])
            drawn = class_labels(num, num_classes, seed) if int(extra["label"]) < 0 else tf.fill([num], extra["label"])
            extra["label"] = drawn
        outputs = function(z=latent_vectors(num, latent_dim, seed), **extra)
    return outputs["images"].numpy(), path


def check_request(num, signature, seed_end=None):
    """Raises UserError for a request the signature would refuse, before TensorFlow loads anything."""
    if signature not in SIGNATURES:
        raise UserError(f"--signature={signature!r} is not one of {', '.join(SIGNATURES)}")
    low = 2 if signature == "interpolate" else 1
    if not low <= num <= MAX_IMAGES:
        raise UserError(f"--num must be between {low} and {MAX_IMAGES} for {signature}, got {num}")
    if signature == "interpolate" and seed_end is None:
        raise UserError("--signature=interpolate needs --seed_end (the seed of the last image)")


def resolve_label(loaded, label, signature, path):
    """The class id of --label (an id or a class name) for a conditional export; -1 (random) when omitted."""
    names = [n.decode("utf-8") for n in loaded.signatures["class_names"]()["class_names"].numpy()]
    if label is None:
        if signature == "interpolate":
            raise UserError(f"the export at {path} is class-conditional: --signature=interpolate needs --label "
                            f"(one of {', '.join(names)} or an id 0..{len(names) - 1})")
        return -1
    if str(label) in names:
        return names.index(str(label))
    if str(label).lstrip("-").isdigit() and 0 <= int(label) < len(names):
        return int(label)
    raise UserError(f"--label={label!r} is not a class of this export: use an id 0..{len(names) - 1} "
                    f"or one of {', '.join(names)}")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m keras_gans.sample",
        description="Sample images from an exported keras_gans generator (SavedModel).",
    )
    parser.add_argument("--export_dir", required=True, help="export folder (newest complete version used) or one version folder")
    parser.add_argument("--num", type=int, default=16, help=f"images (interpolate: steps), 1..{MAX_IMAGES}")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents (interpolate: of the first image)")
    parser.add_argument("--seed_end", type=int, default=None, help="interpolate only: seed of the last image")
    parser.add_argument("--signature", default="generate", choices=SIGNATURES)
    parser.add_argument("--label", default=None, help="class-conditional exports: a class id or name (default: random classes)")
    parser.add_argument("--png", default=None, help="write the images as one grid PNG here")
    parser.add_argument("--scale", type=int, default=1, help="enlarge the PNG grid by this integer factor")
    parser.add_argument("--npy", default=None, help="write the images array here (.npy)")
    args = parser.parse_args(argv)
    if not args.png and not args.npy:
        parser.error("nothing to write: give --png PATH and/or --npy PATH")
    if args.scale < 1:
        parser.error(f"--scale must be >= 1, got {args.scale}")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import numpy as np

    try:
        for flag in ("png", "npy"):
            if getattr(args, flag):
                check_writable(getattr(args, flag), f"--{flag}")
        images, path = sample(args.export_dir, args.num, args.seed, args.signature, args.seed_end, args.label)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    shape = "x".join(str(d) for d in images.shape[1:])
    try:
        if args.npy:
            np.save(args.npy, images)
            print(f"wrote {args.npy}: {args.signature} images {images.dtype} [{images.shape[0]}, {shape}] from {path}")
        if args.png:
            grid = make_grid(images)
            save_png(grid.repeat(args.scale, axis=0).repeat(args.scale, axis=1), args.png)
            print(f"wrote {args.png}: grid of {images.shape[0]} {shape} images from {path}")
    except OSError as error:  # checked writable above; a disk can still fill up meanwhile
        print(f"error: {describe_write_error(error, error.filename or args.npy or args.png)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
