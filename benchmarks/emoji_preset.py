"""Scores for the 64x64 colour folder preset (configs/cpu/folder64.flags, issue 16 item 3).

    python benchmarks/emoji_preset.py calibrate --output benchmarks/results/folder64_calibration.json
    python benchmarks/emoji_preset.py score --runs runs/a,runs/b --output benchmarks/results/folder64_tuning.json

Both read a labelled folder (default ../shared/data/emoji-twitter, 9 class
sub-folders) at 64x64x3 on a white background, and split it once, by --seed,
into two disjoint random halves A and B. Half A is the reference every set is
scored against, by two metrics:

- SWD: keras_gans.evaluation.swd.multiscale_swd (feature-free; 7x7 patches
  of a 64/32/16 Laplacian pyramid; 1,024 images a side), printed x 1e3 as in
  Karras et al. 2018;
- FD: the Frechet distance of the 128-d features of a classifier trained on
  the folder's labels (keras_gans.evaluation.classifier.train_classifier, all
  images, 5 epochs; saved to --classifier and reused when it exists).

`calibrate` scores real half B, half B blurred (Gaussian sigma 1 and 2),
uniform noise, and two real sets "in different styles": the people and
smiley categories against all the other categories (equal counts).
`score` scores each run folder's exported (averaged) generator, with as many
samples as half A holds (and with --raw its trained generator, model.keras).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

FACES = ("people-body", "smileys-emotion")


def load_real(folder, cache_dir, seed):
    from keras_gans import data

    source = data.open_source(f"folder:{folder}", image_shape=(64, 64, 3), background="white", cache_dir=cache_dir)
    a, b = halves(len(source), seed)
    return source, source.images[a], source.images[b]


def halves(count, seed):
    """The indices of real halves A and B: one random split of the folder per seed."""
    order = np.random.default_rng(seed).permutation(count)
    half = count // 2
    return order[:half], order[half:2 * half]


def sample_like(generator, reference_labels, seed):
    """Samples to score against real half A: a conditional generator is asked for half A's own classes.

    Its default (uniform classes, as `generate(n, seed)` draws) would over-draw the folder's rare
    classes (people-body is 60% of Twemoji), and both metrics would count that mismatch as error;
    `keras_gans.evaluate` asks for the real sample's classes the same way.
    """
    labels = None if generator.num_classes is None else np.asarray(reference_labels, np.int32)
    return generator.sample(len(reference_labels), seed=seed, labels=labels)


def raw_generator(path):
    """A `Generator` of model.keras's trained (not averaged) generator."""
    import keras

    import keras_gans.models  # noqa: F401  (registers the classes load_model needs)
    from keras_gans.evaluation.evaluate import Generator

    model = keras.saving.load_model(path, compile=False)
    network = model.generator
    conditional = model.num_classes is not None

    def fn(z, labels=None):
        return keras.ops.convert_to_numpy(network([z, labels] if conditional else z, training=False))

    return Generator(fn, model.latent_dim, {"model": path, "raw": True}, model.num_classes)


def get_classifier(source, path):
    from keras_gans.evaluation import classifier, features

    if not os.path.exists(path):
        model, info = classifier.train_classifier(source, None, epochs=5, batch_size=128, seed=0, verbose=2)
        info["command"] = "benchmarks/emoji_preset.py (train_classifier, all images, 5 epochs)"
        classifier.save_classifier(model, info, path)
    return features.load_classifier(path)


def scores(net, reference, images, reference_features=None):
    from keras_gans.evaluation import metrics, swd

    start = time.time()
    ref = net.features(reference) if reference_features is None else reference_features
    fd = metrics.frechet_distance_from_features(ref, net.features(images))
    result = {k: round(v * 1e3, 3) for k, v in swd.multiscale_swd(reference, images).items()}
    result.update({"fd": round(float(fd), 3), "num_reference": len(reference), "num_images": len(images),
                   "seconds": round(time.time() - start, 1)})
    return result


def blurred(images, sigma):
    from scipy import ndimage

    out = ndimage.gaussian_filter(images.astype(np.float32), sigma=(0, sigma, sigma, 0), mode="reflect")
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def calibrate(args):
    source, half_a, half_b = load_real(args.folder, args.cache_dir, args.seed)
    net = get_classifier(source, args.classifier)
    ref_features = net.features(half_a)
    rows = {}

    def row(name, images, reference=half_a, ref_feat=ref_features):
        rows[name] = scores(net, reference, images, ref_feat)
        print(name, rows[name], flush=True)

    row("real half B", half_b)
    row("real half B, blurred sigma 1", blurred(half_b, 1.0))
    row("real half B, blurred sigma 2", blurred(half_b, 2.0))
    rng = np.random.default_rng(args.seed)
    row("uniform noise", rng.integers(0, 256, half_b.shape, dtype=np.uint8))
    # Different styles: faces and people against everything else (objects, flags, food, animals...).
    names = list(source.class_names)
    faces = np.isin(source.labels, [names.index(n) for n in FACES])
    a, b = source.images[faces], source.images[~faces]
    n = min(len(a), len(b))
    a, b = a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]
    row(f"people+smileys vs other categories ({n} each)", b, reference=a, ref_feat=None)
    return {"rows": rows, "classifier": net.info}


def score(args):
    from keras_gans.evaluation.evaluate import load_export

    source, half_a, _ = load_real(args.folder, args.cache_dir, args.seed)
    half_a_labels = source.labels[halves(len(source), args.seed)[0]]
    net = get_classifier(source, args.classifier)
    ref_features = net.features(half_a)
    rows = {}
    for run in args.runs.split(","):
        generator = load_export(os.path.join(run, "export"))
        fake = sample_like(generator, half_a_labels, args.seed)
        result = scores(net, half_a, fake, ref_features)
        with open(os.path.join(run, "history.json")) as f:
            history = json.load(f)
        if args.raw:  # model.keras's `generator` is the trained one; the export is the average when ema_decay is set
            raw = sample_like(raw_generator(os.path.join(run, "model.keras")), half_a_labels, args.seed)
            result["raw_generator"] = scores(net, half_a, raw, ref_features)
        result["run"] = run
        result["epochs_done"] = len(history.get("g_loss", [])) if isinstance(history, dict) else None
        with open(os.path.join(run, "flags.txt")) as f:
            result["flags"] = f.read().split()
        rows[os.path.basename(os.path.normpath(run))] = result
        print(run, {k: result[k] for k in ("swd_64", "swd_32", "swd_16", "swd", "fd")}, flush=True)
    return {"rows": rows, "classifier": net.info}


TIMED = {  # DCGAN keyword arguments; every one at width 32, batch 64, average 0.999
    "fmnist28_preset": {"image_shape": (28, 28, 1)},
    "base64": {},
    "diffaugment": {"diffaugment": "color,translation,cutout"},
    "sn_hinge": {"spectral_norm": True, "loss": "hinge"},
    "r1": {"r1_gamma": 1.0},
}


def timing(args):
    """Seconds per train step of each configuration, in interleaved rounds in one process (synthetic data).

    The 28x28 Fashion-MNIST DCGAN preset is timed alongside: its rate on a quiet machine is known
    (BENCHMARKS.md), so the ratios convert a loaded machine's times into quiet-machine estimates.
    """
    import tensorflow as tf

    from keras_gans import DCGAN

    names = args.configs.split(",") if args.configs else list(TIMED)
    models, datasets = {}, {}
    for name in names:
        kwargs = {"image_shape": (64, 64, 3), **TIMED[name]}
        model = DCGAN(width=32, ema_decay=0.999, seed=0, **kwargs)
        model.compile()
        images = tf.random.uniform((64 * 4, *kwargs["image_shape"]), -1, 1)
        datasets[name] = tf.data.Dataset.from_tensor_slices(images).batch(64, drop_remainder=True).repeat()
        model.fit(datasets[name], epochs=1, steps_per_epoch=3, verbose=0)  # tracing and compilation
        models[name] = model
    seconds = {name: [] for name in names}
    for r in range(args.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            start = time.time()
            models[name].fit(datasets[name], epochs=1, steps_per_epoch=args.steps, verbose=0)
            seconds[name].append((time.time() - start) / args.steps)
            print(name, r, round(seconds[name][-1], 3), flush=True)
    return {"seconds_per_step": seconds, "median": {n: float(np.median(v)) for n, v in seconds.items()},
            "steps_per_round": args.steps, "load_average": os.getloadavg()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["calibrate", "score", "timing"])
    parser.add_argument("--configs", help="timing: comma list of " + ",".join(TIMED))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--folder", default=os.path.join(REPO, "..", "shared", "data", "emoji-twitter"))
    parser.add_argument("--cache_dir", default="/tmp/kg_cache")
    parser.add_argument("--classifier", default="/tmp/kg_cache/emoji_classifier.keras")
    parser.add_argument("--runs", help="comma list of train.py output folders (score)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--raw", action="store_true", help="score: also score each run's raw generator (model.keras)")
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    start = time.time()
    report = {"calibrate": calibrate, "score": score, "timing": timing}[args.action](args)
    report.update({"command": "python benchmarks/emoji_preset.py " + " ".join(argv or sys.argv[1:]),
                   "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime(start)),
                   "seconds": round(time.time() - start, 1), "swd_scale": "x 1e3"})
    text = json.dumps(report, indent=1)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
