"""Sample quality at equal wall-clock: each implementation trains for the same minutes, then is scored.

    pip install torch==2.13.0
    python benchmarks/quality_at_equal_time.py --minutes 10 --models gan,dcgan,wgan,wgan_gp \
        --output benchmarks/results/quality_10min.json

For each model, keras_gans and the PyTorch reference (benchmarks/torch_reference.py)
each train on the Fashion-MNIST train split for `--minutes` of wall clock,
counted from the first train step (so our XLA compilation is paid inside the
budget), in fresh processes run one after the other. Each then generates
`--samples` images (10,000), scored by `keras_gans.metrics` with the
package's Fashion-MNIST classifier against as many real training images.
A real-vs-real row (train vs test split) shows the floor of each metric.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)
import worker  # noqa: E402  (benchmarks/worker.py: the process each run happens in)
DATASET = worker.DATASET


def train(impl, model, minutes, samples, out, dataset):
    return worker.run_in_subprocess("train", impl=impl, model=model, minutes=minutes, samples=samples, out=out,
                                    dataset=dataset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="dcgan,wgan_gp")
    parser.add_argument("--minutes", type=float, default=10.0, help="training wall clock per model and implementation")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--dataset", default=DATASET)
    parser.add_argument("--output")
    args = parser.parse_args()

    from keras_gans import data, features, metrics

    train_source = data.open_source(args.dataset, "train")
    extractor = features.classifier_for_dataset(train_source.images, args.dataset)
    rng = np.random.default_rng(0)
    real = train_source.images[rng.choice(len(train_source), min(args.samples, len(train_source)), replace=False)]
    real_features = extractor.features(real)

    def score(images):
        fake_features, probabilities = extractor.features_and_probabilities(images)
        return metrics.all_metrics(real_features, fake_features, probabilities)

    rows = [{"model": "real (test split)", "impl": "-",
             **score(data.open_source(args.dataset, "test", limit=args.samples).images)}]
    print(json.dumps(rows[-1]), flush=True)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            for impl in ("ours", "torch"):
                out = os.path.join(tmp, f"{model}_{impl}.npy")
                run = train(impl, model, args.minutes, args.samples, out, args.dataset)
                run.update(score(np.load(out)))
                rows.append(run)
                print(json.dumps(run), flush=True)

    print(f"\nBudget: {args.minutes} min of training per model and implementation; {args.samples} samples each.")
    print("| model | implementation | steps | real images seen | FD (classifier) | KID | precision | recall | "
          "classifier score |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['model']} | {r['impl']} | {r.get('steps', '-')} | {r.get('real_images_seen', '-')} | "
              f"{r['frechet_distance']:.2f} | {r['kernel_distance']:.4f} | {r['precision']:.3f} | {r['recall']:.3f} | "
              f"{r['classifier_score']:.2f} |")
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(),
               "minutes": round((time.time() - started) / 60, 1)}
    print(json.dumps(machine))
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as f:
            json.dump({"rows": rows, "machine": machine, "argv": sys.argv, "extractor": extractor.info}, f, indent=1)


if __name__ == "__main__":
    main()
