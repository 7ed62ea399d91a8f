"""folder64 round 14 probe: does the truncation trick make an export's samples more recognisable?

The truncation trick (Brock et al. 2019, BigGAN) samples the latent from a normal truncated to
[-t, t]: less variety, each image nearer the generator's "typical" output. This probe maps the
export's usual latents (the seed's N(0, 1) draws) monotonically onto the truncated normal by the
inverse CDF, z_t = ndtri(Phi(-t) + Phi(z) (1 - 2 Phi(-t))), so each image keeps its identity as t
falls, and scores each t against real half A as `emoji_preset.py score` does, plus the folder
classifier's confidence (fraction of samples whose top class probability exceeds 0.9), and
improved precision / recall of its features; it writes a 5x5 grid per t beside the JSON.

The export's BatchNorm statistics were measured on untruncated latents; `--recalibrate` samples
model.keras's averaged generator instead, its standing statistics measured again on each t's
truncated latents (keras_gans.models.averaging.standing_statistics).

    python benchmarks/preset_tuning/r14_truncation_probe.py --run RUN --output F.json \
        [--recalibrate] [--classifier PATH] [--cache_dir DIR]
"""

import argparse
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import emoji_preset  # noqa: E402

THRESHOLDS = (None, 2.0, 1.5, 1.0, 0.7, 0.5)


def truncated(z, t):
    """The N(0, 1) latents z mapped monotonically onto the normal truncated to [-t, t]."""
    from scipy.special import ndtr, ndtri

    if t is None:
        return z
    low = ndtr(-t)
    return ndtri(low + ndtr(z.astype(np.float64)) * (1 - 2 * low)).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--folder", default=os.path.join(REPO, "..", "shared", "data", "emoji-twitter"))
    parser.add_argument("--cache_dir", default=None)
    parser.add_argument("--classifier", default="/tmp/kg_cache/emoji_classifier.keras")
    parser.add_argument("--recalibrate", action="store_true")
    args = parser.parse_args(argv)

    from keras_gans.evaluation import metrics
    from keras_gans.evaluation.evaluate import Generator, load_export
    from keras_gans.images import save_grid, to_uint8
    from keras_gans.latents import latent_vectors

    source, half_a, half_b = emoji_preset.load_real(args.folder, args.cache_dir, 0)
    net = emoji_preset.get_classifier(source, args.classifier)
    reference = net.features(half_a)

    def confidence_and_coverage(images):
        features, probabilities = net.features_and_probabilities(images)
        precision, recall = metrics.precision_recall(reference, features)
        top = probabilities.max(axis=1)
        return {"confident_0.9": round(float((top > 0.9).mean()), 3), "mean_top_prob": round(float(top.mean()), 3),
                "precision": round(precision, 3), "recall": round(recall, 3)}

    rows = {"real half B": confidence_and_coverage(half_b)}
    print("real half B", rows["real half B"], flush=True)
    generator = load_export(os.path.join(args.run, "export"))
    z = latent_vectors(len(half_a), generator.latent_dim, 0).numpy()
    if args.recalibrate:
        import keras

        import keras_gans.models  # noqa: F401  (registers the classes load_model needs)
        from keras_gans.models import averaging

        average = keras.saving.load_model(os.path.join(args.run, "model.keras"), compile=False).ema_generator
        copy = averaging.averaged_copy(average)
        calibration = latent_vectors(averaging.CALIBRATION_SAMPLES, generator.latent_dim, averaging.CALIBRATION_SEED)
    for t in THRESHOLDS:
        zt = truncated(z, t)
        if args.recalibrate:
            averaging.standing_statistics(copy, average, truncated(calibration.numpy(), t))
            generator = Generator(lambda latents: copy(latents, training=False).numpy(),
                                               generator.latent_dim, {})
        images = np.concatenate([generator(zt[i:i + 500]) for i in range(0, len(zt), 500)])
        images = to_uint8(images)
        row = emoji_preset.scores(net, half_a, images, reference)
        row.update(confidence_and_coverage(images))
        rows[f"t={t}"] = row
        print(f"t={t}", {k: row[k] for k in ("swd", "fd", "confident_0.9", "precision", "recall")}, flush=True)
        save_grid(images[:25], f"{os.path.splitext(args.output)[0]}_t{t}.png")
    with open(args.output, "w") as f:
        json.dump({"run": args.run, "rows": rows, "command": "python " + " ".join(sys.argv)}, f, indent=1)


if __name__ == "__main__":
    main()
