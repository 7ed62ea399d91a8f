"""Does sampling the generator average with standing BatchNorm statistics help? Paired scores of finished runs.

    python benchmarks/standing_statistics.py --runs RUN_A,RUN_B --output F.json                    # 64x64 folder runs
    python benchmarks/standing_statistics.py --runs RUN_A,RUN_B --dataset idx:../shared/data/fashion-mnist --output F.json

Each run folder's model.keras (trained with --ema_decay) is loaded once and
its average scored twice, on the same latents: with the averaged BatchNorm
statistics it was trained with (`model.ema_generator`, what samples came from
before) and with standing statistics (`model.sampling_network()`, what
`generate` and the export use now; keras_gans.models.averaging).

Folder runs (default) are scored as benchmarks/emoji_preset.py scores them
(multi-scale SWD and the cached classifier's FD against real half A); a
--dataset is scored by keras_gans.evaluate (the packaged classifier's FD,
10,000 samples).
"""

import argparse
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))


def as_generator(network, latent_dim):
    import keras

    from keras_gans.evaluation.evaluate import Generator

    return Generator(lambda z, labels=None: keras.ops.convert_to_numpy(network(z, training=False)), latent_dim, {}, None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", required=True, help="comma-separated run folders (each with model.keras)")
    parser.add_argument("--dataset", default=None, help="score with keras_gans.evaluate on this dataset instead")
    parser.add_argument("--folder", default=os.path.join(REPO, "..", "shared", "data", "emoji-twitter"))
    parser.add_argument("--cache_dir", default="/tmp/kg_cache")
    parser.add_argument("--classifier", default="/tmp/kg_cache/emoji_classifier.keras")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    import keras

    import keras_gans.models  # noqa: F401  (registers the classes load_model needs)
    from keras_gans.evaluation.evaluate import evaluate

    if args.dataset is None:
        import emoji_preset

        source, half_a, _ = emoji_preset.load_real(args.folder, args.cache_dir, 0)
        labels = source.labels[emoji_preset.halves(len(source), 0)[0]]
        net = emoji_preset.get_classifier(source, args.classifier)
        reference = net.features(half_a)

        def score(generator):
            result = emoji_preset.scores(net, half_a, emoji_preset.sample_like(generator, labels, 0), reference)
            return {"swd": result["swd"], "fd": result["fd"]}
    else:
        def score(generator):
            metrics = evaluate(generator, args.dataset, num_samples=10000)["metrics"]
            return {"fd": round(float(metrics["frechet_distance"]), 3)}

    rows = {}
    for run in args.runs.split(","):
        model = keras.saving.load_model(os.path.join(run, "model.keras"), compile=False)
        if model.ema_generator is None:
            raise SystemExit(f"{run} was trained without --ema_decay: nothing to compare")
        row = {"averaged_statistics": score(as_generator(model.ema_generator, model.latent_dim)),
               "standing_statistics": score(as_generator(model.sampling_network(), model.latent_dim))}
        rows[run] = row
        print(run, row, flush=True)
        with open(args.output, "w") as f:  # after every run: a long scoring job keeps what it did
            json.dump({"rows": rows, "dataset": args.dataset or args.folder}, f, indent=1)
    for metric in ("fd", "swd"):
        pairs = [(r["averaged_statistics"][metric], r["standing_statistics"][metric]) for r in rows.values()
                 if metric in r["averaged_statistics"]]
        if pairs:
            better = sum(after < before for before, after in pairs)
            ratio = float(np.mean([after / before for before, after in pairs]))
            print(f"{metric}: standing statistics lower in {better} of {len(pairs)} runs; mean ratio {ratio:.3f}")


if __name__ == "__main__":
    main()
