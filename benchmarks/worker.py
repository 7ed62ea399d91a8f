"""One benchmark run of one implementation, in its own process; prints one JSON line.

Each run is a fresh process so that its peak resident memory (`ru_maxrss`,
reported in MiB) belongs to that implementation alone, and so that
TensorFlow and PyTorch never share a process or a thread pool.

    python benchmarks/worker.py throughput --impl ours --model dcgan --steps 6 --warmup 2
    python benchmarks/worker.py train --impl torch --model dcgan --minutes 2 --samples 10000 --out x.npy

`throughput`: `warmup` train steps (graph tracing and XLA compilation for
ours), then `steps` timed steps; reports real images consumed per second
(steps * batch_size * n_critic / seconds) and generator images per second.
`train`: trains for `minutes` of wall clock counted from the first step (so
our compile time is paid inside the budget, as a user pays it), then writes
`samples` uint8 images [N, 28, 28, 1] to `out`.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASET = "idx:" + os.path.join(os.path.dirname(REPO), "shared", "data", "fashion-mnist")


class Images:
    """The training split as uint8 [N, 28, 28, 1]; read with numpy only, so the PyTorch
    process never imports TensorFlow (it would count in its memory)."""

    def __init__(self, spec):
        import gzip
        import struct

        if not spec.startswith("idx:"):
            raise SystemExit(f"the benchmark reads idx:DIR datasets, got {spec!r}")
        path = os.path.join(spec[4:], "train-images-idx3-ubyte.gz")
        with gzip.open(path, "rb") as f:
            raw = f.read()
        count, height, width = struct.unpack(">III", raw[4:16])
        self.name = spec
        self.images = np.frombuffer(raw, np.uint8, offset=16).reshape(count, height, width, 1)
        labels_path = os.path.join(spec[4:], "train-labels-idx1-ubyte.gz")
        self.labels = None
        if os.path.exists(labels_path):  # for class-conditional configs
            with gzip.open(labels_path, "rb") as f:
                self.labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int32)
        self.image_shape = (height, width, 1)

    def __len__(self):
        return len(self.images)


def run_in_subprocess(mode, cpus=None, **options):
    """Runs this worker in a fresh process (`mode` "throughput" or "train", options as --flags)
    and returns the dict it printed on its RESULT line; raises with its stderr if it failed.

    `cpus`: the CPU numbers the process may run on (Linux affinity), for runs
    side by side on separate cores; None: all of them. TensorFlow and
    PyTorch size their thread pools from the affinity mask.
    """
    import subprocess

    command = [sys.executable, os.path.abspath(__file__), mode]
    for name, value in options.items():
        if value is not None:
            command += [f"--{name}", str(value)]
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=pin)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def write_report(path, machine, **report):
    """Prints the machine line and, given `path`, writes the JSON report (with `machine` and argv) there."""
    print(json.dumps(machine))
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump({**report, "machine": machine, "argv": sys.argv}, f, indent=1)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load_flagfile(path):
    """The TrainConfig that `python train.py --flagfile=PATH` would train with."""
    sys.path.insert(0, REPO)
    import train

    return train.config_from_flagfile(path)


class Ours:
    """keras_gans, as a user of train.py runs it: --precision=auto, model.compile() defaults, model.fit on tf.data.

    `config`: a train.py flags file (e.g. configs/cpu/dcgan.flags) whose model,
    network, optimiser and batch settings are used; None: the model's
    defaults, i.e. the article's recipe. Its dataset and epochs are ignored.
    """

    def __init__(self, model_name, source, seed=0, jit_compile=None, precision="auto", config=None):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        sys.path.insert(0, REPO)
        import dataclasses

        from keras_gans import data
        from keras_gans.config import TrainConfig
        from keras_gans.training.run import build

        if config is None:
            settings = TrainConfig(model=model_name, seed=seed)
        else:
            settings = load_flagfile(config)
            if settings.model != model_name:
                raise SystemExit(f"{config} trains --model={settings.model}, not {model_name}")
            settings.seed = seed
        # The package defaults, what a train.py user gets: precision "auto"
        # (mixed_bfloat16 on CPUs with native bfloat16), and jit_compile None
        # (XLA unless bfloat16 on a CPU). Built (and seeded) as train.py builds it.
        if precision != "auto":
            settings = dataclasses.replace(settings, precision=precision)
        if jit_compile is not None:
            settings = dataclasses.replace(settings, jit_compile=jit_compile)
        # A --conditional config trains on (images, labels), as train.py does.
        conditional = bool(getattr(settings, "conditional", False))
        if conditional and source.labels is None:
            raise SystemExit(f"{config} is conditional but {source.name} has no labels")
        self.num_classes = int(source.labels.max()) + 1 if conditional else None
        self.model = build(settings, source.image_shape, num_classes=self.num_classes)
        self.batch_size = settings.resolved_batch_size()
        self.n_critic = self.model.n_critic
        source = data.ImageSource(source.name, source.images, labels=source.labels if conditional else None)
        self.dataset = data.make_dataset(source, self.batch_size * self.n_critic, shuffle=True, seed=seed, repeat=True,
                                         labels=conditional)

    def fit(self, steps, on_step):
        import keras

        class Clock(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if on_step(batch + 1):
                    self.model.stop_training = True

        self.model.fit(self.dataset, epochs=1, steps_per_epoch=steps, callbacks=[Clock()], verbose=0)

    def generate(self, num, seed, raw=False):
        """Samples as a user gets them (from the generator average when the config enables it);
        raw=True: from the trained generator itself, to measure what the average adds."""
        import tensorflow as tf

        from keras_gans.data import to_uint8
        from keras_gans.models.gan import latent_vectors

        network = self.model.generator if raw else self.model.sampling_network()
        chunks = []
        labels = self.sample_labels(num)  # classes in turn (conditional models), else None
        for i in range(0, num, 500):
            z = latent_vectors(min(500, num - i), self.model.latent_dim, seed + i)
            if labels is not None:
                z = [z, tf.constant(labels[i:i + len(z)])]
            chunks.append(to_uint8(network(z, training=False)))
        return np.concatenate(chunks)

    def sample_labels(self, num):
        """The class asked of each generated image (conditional models): 0, 1, ..., K-1, 0, 1, ..."""
        return np.arange(num, dtype=np.int32) % self.num_classes if self.num_classes else None

    def has_average(self):
        return self.model.ema_generator is not None


class Api(Ours):
    num_classes = None

    """keras_gans as the README's first lines use it: `MODELS[name](); model.compile(); model.fit(dataset)`.

    No train.py layer, no precision or jit_compile argument: the model's own
    defaults (precision "auto", XLA measured at the first fit). Seeded like
    train.py so the weights match `Ours`.
    """

    def __init__(self, model_name, source, seed=0, jit_compile=None, precision="auto", config=None):
        if (jit_compile, precision, config) != (None, "auto", None):
            raise SystemExit("--impl api takes the package defaults only")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        sys.path.insert(0, REPO)
        import keras

        from keras_gans import data
        from keras_gans.models import MODELS

        keras.utils.set_random_seed(seed)
        self.model = MODELS[model_name](image_shape=source.image_shape, seed=seed)
        self.model.compile()
        self.batch_size = self.model.default_batch_size
        self.n_critic = self.model.n_critic
        source = data.ImageSource(source.name, source.images)
        self.dataset = data.make_dataset(source, self.batch_size * self.n_critic, shuffle=True, seed=seed, repeat=True)


class Theirs:
    """benchmarks/torch_reference.py: the article's scripts in PyTorch, an in-memory shuffled loader."""

    def __init__(self, model_name, source, seed=0, jit_compile=None, precision=None, config=None):
        if config is not None:
            raise SystemExit("--config is for --impl ours: the PyTorch reference runs the article's recipe")
        # Under a shared CPU, OpenMP's default spin-waiting makes 2-thread PyTorch up to
        # 10x slower (measured here); passive waiting costs nothing on a quiet machine.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_reference import BatchStream, Reference

        self.reference = Reference(model_name, seed)
        self.batch_size = self.reference.batch_size
        self.n_critic = self.reference.n_critic
        self.stream = BatchStream(source.images, self.batch_size, seed)

    def fit(self, steps, on_step):
        for step in range(1, steps + 1):
            self.reference.step([self.stream.next() for _ in range(self.n_critic)])
            if on_step(step):
                return

    def generate(self, num, seed):
        return self.reference.generate(num, seed)

    def has_average(self):
        return False


def throughput(impl, args, source):
    times = {}

    def on_step(step):
        times[step] = time.perf_counter()
        return False

    start = time.perf_counter()
    impl.fit(args.warmup + args.steps, on_step)
    seconds = times[args.warmup + args.steps] - times[args.warmup]
    real = args.steps * impl.batch_size * impl.n_critic
    return {
        "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / args.steps, 3),
        "real_images_per_s": round(real / seconds, 1),
        "generator_images_per_s": round(args.steps * impl.batch_size * (impl.n_critic + 1) / seconds, 1),
        # From fit() to the end of the first step: tracing, XLA compilation, keras_gans' XLA measurement.
        "first_step_seconds": round(times[1] - start, 1),
    }


def train(impl, args, source):
    start = time.perf_counter()
    deadline = start + 60.0 * args.minutes
    done = {"steps": 0}

    def on_step(step):
        done["steps"] = step
        if step == 1:
            done["first_step"] = time.perf_counter() - start
        return time.perf_counter() >= deadline

    impl.fit(10**9, on_step)
    trained = time.perf_counter() - start
    np.save(args.out, impl.generate(args.samples, args.seed))
    labels = getattr(impl, "sample_labels", lambda num: None)(args.samples)
    labels_path = None
    if labels is not None:  # what each image was asked to be, for the class accuracy
        labels_path = args.out[:-len(".npy")] + "_labels.npy"
        np.save(labels_path, labels)
    raw_samples = None
    if impl.has_average():  # also the raw generator's samples, to score what the average adds
        raw_samples = args.out[:-len(".npy")] + "_raw.npy"
        np.save(raw_samples, impl.generate(args.samples, args.seed, raw=True))
    # The first step holds tracing and XLA compilation (ours) or allocator warm-up (torch).
    return {"train_seconds": round(trained, 1), "first_step_seconds": round(done["first_step"], 1),
            "steps": done["steps"],
            "real_images_seen": done["steps"] * impl.batch_size * impl.n_critic, "samples": args.out,
            "raw_samples": raw_samples, "sample_labels": labels_path}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["throughput", "train"])
    parser.add_argument("--impl", choices=["ours", "api", "torch"], required=True,
                        help="ours: built as train.py builds; api: the plain Python API's defaults; torch: the reference")
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", default=DATASET)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    parser.add_argument("--jit_compile", choices=["default", "true", "false"], default="default",
                        help="ours only: model.compile(jit_compile=...); default keeps the package's default")
    parser.add_argument("--precision", default="auto", help="ours only: the train.py --precision value")
    parser.add_argument("--config", help="ours only: a train.py flags file to take the model's settings from "
                        "(default: the article's recipe)")
    args = parser.parse_args()
    source = Images(args.dataset)
    jit = {"default": None, "true": True, "false": False}[args.jit_compile]
    impl = {"ours": Ours, "api": Api, "torch": Theirs}[args.impl](args.model, source, args.seed, jit, args.precision, args.config)
    result = (throughput if args.mode == "throughput" else train)(impl, args, source)
    result.update(impl=args.impl, model=args.model, config=args.config, jit_compile=args.jit_compile, precision=args.precision, batch_size=impl.batch_size, n_critic=impl.n_critic,
                  peak_rss_mib=round(peak_rss_mib(), 1))
    if hasattr(impl, "model"):  # what the defaults resolved to
        result.update(xla_used=bool(impl.model.jit_compile), precision_used=impl.model.precision)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
