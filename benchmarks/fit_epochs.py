"""Epoch time of `model.fit(dataset, epochs=N)` with one input iterator for all epochs vs Keras' own path.

    python benchmarks/fit_epochs.py --epochs 8 --rounds 2 --output benchmarks/results/fit_epochs.json

Keras starts a new iterator every epoch of a finite dataset, and the first
step on it can stall for seconds; `keras_gans.models.epoch_input` gives fit
one endless iterator with `steps_per_epoch` instead. "keras_own" is the
same fit with that helper switched off (a new iterator every epoch, as
before). Both run in this process, alternating, on the same data, so
their ratio is fair on a noisy machine. Per epoch: the wall time between
on_epoch_begin and on_epoch_end, and the first step's share of it. Epoch 1
(tracing, the XLA choice) is left out of the medians.
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_gans  # noqa: E402
from keras_gans.models import epoch_input  # noqa: E402

CONFIGS = {
    # The folder64 preset's network: 64x64x3, width 16, batch 32, R1, average; 118 batches = 3,776 images.
    "folder64": dict(shape=(64, 64, 3), width=16, batch=32, batches=118, r1_gamma=1.0),
    # The quickstart's network: 28x28x1, width 32, batch 32, average; 187 batches = the embedded sample.
    "quickstart": dict(shape=(28, 28, 1), width=32, batch=32, batches=187, r1_gamma=0.0),
}


class EpochTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.first_steps = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = self.last = time.perf_counter()
        self.first = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.first is None:
            self.first = now - self.last
        self.last = now

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self.start)
        self.first_steps.append(self.first)


def one_run(config, epochs, one_iterator, seed=0):
    import tensorflow as tf

    images = np.random.default_rng(seed).uniform(-1, 1, (config["batches"] * config["batch"], *config["shape"]))
    dataset = tf.data.Dataset.from_tensor_slices(images.astype("float32")).shuffle(4096, seed=seed)
    dataset = dataset.batch(config["batch"], drop_remainder=True).prefetch(2)
    keras.utils.set_random_seed(seed)
    model = keras_gans.DCGAN(image_shape=config["shape"], width=config["width"], ema_decay=0.999,
                             r1_gamma=config["r1_gamma"], seed=seed)
    model.compile()
    times = EpochTimes()
    original = epoch_input.repeat_for_epochs
    if not one_iterator:
        epoch_input.repeat_for_epochs = lambda x, args, kwargs, strategy: (x, kwargs)
    try:
        model.fit(dataset, epochs=epochs, verbose=0, callbacks=[times])
    finally:
        epoch_input.repeat_for_epochs = original
    return {"epoch_seconds": [round(t, 3) for t in times.epochs],
            "first_step_seconds": [round(t, 3) for t in times.first_steps],
            "jit_compile": bool(model.jit_compile)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="folder64,quickstart")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output")
    args = parser.parse_args()
    results = {}
    for name in args.configs.split(","):
        runs = {"one_iterator": [], "keras_own": []}
        for _ in range(args.rounds):
            for mode in ("keras_own", "one_iterator"):
                run = one_run(CONFIGS[name], args.epochs, mode == "one_iterator")
                runs[mode].append(run)
                print(name, mode, json.dumps(run), flush=True)
        summary = {}
        for mode, mode_runs in runs.items():
            epochs = [t for run in mode_runs for t in run["epoch_seconds"][1:]]
            firsts = [t for run in mode_runs for t in run["first_step_seconds"][1:]]
            summary[mode] = {"median_epoch_s": round(statistics.median(epochs), 3),
                             "mean_epoch_s": round(statistics.mean(epochs), 3),
                             "median_first_step_s": round(statistics.median(firsts), 3),
                             "max_first_step_s": round(max(firsts), 3)}
        summary["mean_epoch_ratio_keras_own_over_one_iterator"] = round(
            summary["keras_own"]["mean_epoch_s"] / summary["one_iterator"]["mean_epoch_s"], 3)
        results[name] = {"config": CONFIGS[name], "runs": runs, "summary": summary}
        print(name, json.dumps(summary), flush=True)
    results["command"] = (f"python benchmarks/fit_epochs.py --configs {args.configs} --epochs {args.epochs} "
                          f"--rounds {args.rounds}" + (f" --output {args.output}" if args.output else ""))
    results["date_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
