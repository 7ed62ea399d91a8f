"""Sample quality at equal wall-clock: each run trains for the same minutes, then is scored.

    pip install torch==2.13.0
    python benchmarks/quality_at_equal_time.py --minutes 10 --jobs 2 \
        --output benchmarks/results/presets_10min.json

For each model (--models) it trains up to three sides (--sides): the
article's recipe in the PyTorch reference (benchmarks/torch_reference.py),
the article's recipe in keras_gans (configs/<model>.flags) and the keras_gans
CPU preset (configs/cpu/<model>.flags). `--configs a.flags,b.flags` trains
any train.py flags files instead (how the presets were tuned). Every run
trains on the Fashion-MNIST train split for `--minutes` of wall clock,
counted from the first train step (so tracing and XLA compilation are paid
inside the budget), in a fresh process; `--jobs 2` runs two at a time, each
pinned to its own half of the CPUs. Each then generates `--samples` images
(10,000), scored by `keras_gans.metrics` with the package's Fashion-MNIST
classifier against as many real training images; a run with generator
averaging is also scored from its raw generator. A real-vs-real row (test vs
train split) shows the floor of each metric.
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


# The three ways a model is trained in the comparison (issue 8's table).
SIDES = {
    "torch": "the article's recipe, PyTorch reference (benchmarks/torch_reference.py)",
    "article": "the article's recipe, keras_gans (configs/<model>.flags)",
    "preset": "keras_gans CPU preset (configs/cpu/<model>.flags)",
}


def _config_runs(paths):
    runs = []
    for path in paths.split(","):
        model = worker.load_flagfile(path).model
        runs.append((os.path.basename(path), model, "ours", path))
    return runs


def planned_runs(args):
    """[(label, model, impl, config)] in the order they run."""
    if args.configs:
        return _config_runs(args.configs)
    runs = []
    for model in args.models.split(","):
        for side in args.sides.split(","):
            if side not in SIDES:
                raise SystemExit(f"unknown side {side!r}: use {', '.join(SIDES)}")
            config = {"torch": None, "article": f"configs/{model}.flags", "preset": f"configs/cpu/{model}.flags"}[side]
            runs.append((side, model, "torch" if side == "torch" else "ours",
                         None if config is None else os.path.join(REPO, config)))
    if args.also_configs:
        runs += _config_runs(args.also_configs)
    return runs


def run_all(runs, args, tmp):
    """Runs every planned run for args.minutes, `args.jobs` at a time, each
    job pinned to its own equal share of the CPUs; returns the workers' result
    dicts (with their "samples" and "raw_samples" paths) in plan order. Nothing else computes
    meanwhile: scoring waits until every run has trained, so it never takes
    CPU from a run's budget."""
    import concurrent.futures
    import queue

    cpus = sorted(os.sched_getaffinity(0))
    per_job = len(cpus) // args.jobs
    if per_job < 1:
        raise SystemExit(f"--jobs={args.jobs} but only {len(cpus)} CPUs")
    slots = queue.Queue()
    for j in range(args.jobs):
        slots.put(cpus[j * per_job:(j + 1) * per_job] if args.jobs > 1 else None)

    def one(index, run):
        label, model, impl, config = run
        slot = slots.get()
        try:
            out = os.path.join(tmp, f"{index}_{model}_{impl}.npy")
            result = worker.run_in_subprocess("train", cpus=slot, impl=impl, model=model, minutes=args.minutes,
                                              samples=args.samples, out=out, dataset=args.dataset, config=config,
                                              seed=args.seed)
            result.update(side=label, cpus=len(slot) if slot else len(cpus))
            print(json.dumps(result), flush=True)
            return result
        finally:
            slots.put(slot)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one, i, run) for i, run in enumerate(runs)]
        return [future.result() for future in futures]


def print_preset_ratios(rows):
    """Issue 8's target per model: the FD of the preset (and of any --also_configs run) over each
    article-recipe run's FD (at most 0.25)."""
    by_side = {(r["model"], r["side"]): r["frechet_distance"] for r in rows}
    candidates = [(model, side) for model, side in by_side
                  if side not in ("torch", "article", "-") and ((model, "article") in by_side or (model, "torch") in by_side)]
    if not candidates:
        return
    print("\n| model | run | FD | article FD, keras_gans | article FD, PyTorch | FD / article (keras_gans, PyTorch) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model, side in candidates:
        fd = by_side[(model, side)]
        article, torch = by_side.get((model, "article")), by_side.get((model, "torch"))
        ratios = ", ".join("-" if x is None else f"{fd / x:.3f}" for x in (article, torch))
        print(f"| {model} | {side} | {fd:.2f} | {'-' if article is None else f'{article:.2f}'} | "
              f"{'-' if torch is None else f'{torch:.2f}'} | {ratios} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gan,dcgan,wgan,wgan_gp")
    parser.add_argument("--sides", default="torch,article,preset", help="which of " + "; ".join(
        f"{k}: {v}" for k, v in SIDES.items()))
    parser.add_argument("--configs", help="instead of --models/--sides: train.py flags files to compare (tuning)")
    parser.add_argument("--also_configs", help="with --models/--sides: train.py flags files to train in the same "
                        "job besides them (e.g. a candidate preset, so its ratio to the article is measured together)")
    parser.add_argument("--minutes", type=float, default=10.0, help="training wall clock per run")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs side by side, each pinned to its own 1/jobs of the CPUs (default 1: one at a "
                             "time on all of them)")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0,
                        help="every run's training seed (weights, noise, data order) and sampling seed")
    parser.add_argument("--dataset", default=DATASET)
    parser.add_argument("--output")
    args = parser.parse_args()

    from keras_gans import data, features, metrics

    train_source = data.open_source(args.dataset, "train")
    extractor = features.classifier_for_dataset(train_source.images, args.dataset)
    rng = np.random.default_rng(0)
    real = train_source.images[rng.choice(len(train_source), min(args.samples, len(train_source)), replace=False)]
    real_features = extractor.features(real)

    def score(images, asked=None):
        fake_features, probabilities = extractor.features_and_probabilities(images)
        result = metrics.all_metrics(real_features, fake_features, probabilities)
        if asked is not None:  # a conditional run: how often the classifier sees the class asked for
            result["class_accuracy"] = float(np.mean(np.argmax(probabilities, axis=1) == asked))
        return result

    rows = [{"model": "real (test split)", "impl": "-", "side": "-",
             **score(data.open_source(args.dataset, "test", limit=args.samples).images)}]
    print(json.dumps(rows[-1]), flush=True)

    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for run in run_all(planned_runs(args), args, tmp):
            asked = np.load(run["sample_labels"]) if run.get("sample_labels") else None
            run.update(score(np.load(run["samples"]), asked))
            if run.get("raw_samples"):  # the same run sampled from its raw generator instead of the average
                run["raw_generator"] = score(np.load(run["raw_samples"]), asked)
            rows.append(run)
            print(json.dumps(run), flush=True)

    print(f"\nBudget: {args.minutes} min of training per run, {args.jobs} run(s) at a time; {args.samples} samples each.")
    print("| model | side | steps | real images seen | FD (classifier) | KID | precision | recall | "
          "classifier score | FD of the raw generator (runs with an average) | class accuracy (conditional) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        raw = f"{r['raw_generator']['frechet_distance']:.2f}" if "raw_generator" in r else "-"
        accuracy = f"{r['class_accuracy']:.3f}" if "class_accuracy" in r else "-"
        print(f"| {r['model']} | {r['side']} | {r.get('steps', '-')} | {r.get('real_images_seen', '-')} | "
              f"{r['frechet_distance']:.2f} | {r['kernel_distance']:.4f} | {r['precision']:.3f} | {r['recall']:.3f} | "
              f"{r['classifier_score']:.2f} | {raw} | {accuracy} |")
    print_preset_ratios(rows)
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(),
               "minutes": round((time.time() - started) / 60, 1)}
    print(json.dumps(machine))
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as f:
            json.dump({"rows": rows, "machine": machine, "argv": sys.argv, "extractor": extractor.info}, f, indent=1)


if __name__ == "__main__":
    main()
