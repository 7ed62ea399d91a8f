"""Whether a model's train step runs under XLA: forced by `jit_compile=True/False`, else measured.

No fixed rule picks the faster path for every network: XLA fuses the small
convolutions of the article's networks (faster even on a CPU), yet with
keras.io's WGAN-GP critic (5x5 stride-2 convolutions up to 512 filters) one
CPU step took 6.8 s under XLA against 0.31 s without (issue 18), and XLA's CPU
backend does not use native bfloat16 instructions. So with `jit_compile`
None or "auto" (the default), the first `fit` after `compile` times the
train step both ways on a batch shaped like the data's and keeps the faster:

- a few steps each way, alternating, after one warm-up step each (tracing,
  XLA compilation); it stops early once one way is 1.5x faster;
- every variable the steps touch (weights, both optimisers' slots and step
  counters, seed states, metrics) is restored afterwards, so the fit trains
  exactly as if the chosen setting had been forced (tested bit for bit);
- the batch is random numbers of the data's shapes and dtypes, never taken
  from the data, so the data's order (a reshuffling dataset) is untouched;
- the choice is cached per network signature (model class and settings,
  every layer's configuration, batch shape, precision, CPU or GPU, thread
  count, TensorFlow and Keras versions) in
  $XDG_CACHE_HOME/keras_gans/xla_choice.json (default ~/.cache/...), so a
  second run of the same network does not measure again.

Not measured, the rule `precision.default_jit_compile` is used instead (XLA
unless bfloat16 on a CPU): for models under MIN_PARAMETERS trainable
parameters (a step takes milliseconds either way, and two compilations
would cost more than a short run can win back), for data whose batch shape
cannot be read without consuming it (a Python generator, a PyDataset), and
under a tf.distribute strategy, where XLA is always off (`GAN.compile`).

The two paths draw different training noise (TensorFlow's stateless random
ops give other numbers under XLA), so one network trains reproducibly on a
machine as long as the choice holds. A checkpoint records the choice it was
trained with and a resumed run keeps it (`keep_jit_compile`), so a resume
stays exact on another machine or with the cache emptied. Force
`jit_compile` where separate runs must match across machines.
"""

import hashlib
import json
import os
import platform
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from keras_gans import distribute, precision

MIN_PARAMETERS = 100_000
WARMUP_STEPS = 1
ROUNDS = 3  # timed steps each way, at most
CLEAR_RATIO = 1.5  # one way this much faster after a round: stop timing


class XlaChoiceMixin:
    """Resolves `jit_compile` "auto" at the first `fit` after `compile` (see the module's docstring)."""

    _xla_auto = False  # jit_compile was left to us (kept in the compile config as "auto")
    _xla_pending = False  # ... and not decided yet

    def _resolve_jit_compile(self, jit_compile):
        """The `jit_compile` to compile with now; "auto"/None is decided later, in `fit`."""
        if distribute.is_distributed(self.distribute_strategy):
            # XLA around a multi-device step fails ("Trying to access resource
            # ... located in device CPU:1 from CPU:0"), as Keras' own "auto"
            # knows; TPUs compile the replica step with XLA anyway.
            self._xla_auto = self._xla_pending = False
            return False
        self._xla_auto = self._xla_pending = jit_compile in (None, "auto")
        return precision.default_jit_compile(self.dtype_policy.name) if self._xla_auto else bool(jit_compile)

    def get_compile_config(self):
        config = dict(super().get_compile_config() or {})
        if self._xla_auto:
            config["jit_compile"] = "auto"  # a reloaded model decides again, on its machine
        return config

    def keep_jit_compile(self, jit_compile):
        """Uses `jit_compile`, as a run being resumed was trained, if the choice is still ours to make.

        The two paths draw different training noise, so an exact resume needs
        the path the checkpoint was trained on, whatever a measurement (or an
        emptied cache) would say on this machine today. Returns whether it applied.
        """
        if not self._xla_pending:
            return False
        self._xla_pending = False
        self.jit_compile = bool(jit_compile)
        print(f"keras_gans: XLA {'on' if self.jit_compile else 'off'} for this model, as in the checkpoint it resumes")
        return True

    def fit(self, x=None, *args, **kwargs):
        if self._xla_pending and not self.run_eagerly:  # eager steps: XLA does not apply
            self._xla_pending = False
            batch_size = args[1] if len(args) > 1 else kwargs.get("batch_size")
            choose(self, example_batch(x, batch_size))
        return super().fit(x, *args, **kwargs)


def example_batch(x, batch_size=None):
    """Random tensors shaped like one batch of `x` (a tf.data.Dataset or arrays), or None when unknown."""
    if isinstance(x, tf.data.Dataset):
        specs = x.element_spec
        if any(spec.shape.rank is None or None in spec.shape[1:] for spec in tf.nest.flatten(specs)):
            return None
        if any(spec.shape[0] is None for spec in tf.nest.flatten(specs)):
            return None  # batched without drop_remainder: the size is a run-time fact
        return tf.nest.map_structure(lambda spec: _random(spec.shape, spec.dtype), specs)
    if isinstance(x, (np.ndarray, tf.Tensor)) and x.ndim >= 2:
        rows = min(int(batch_size or 32), int(x.shape[0]))  # Keras' default batch size: 32
        return _random((rows, *x.shape[1:]), tf.as_dtype(x.dtype))
    return None


def _random(shape, dtype):
    if dtype.is_floating:
        return tf.random.uniform(shape, -1.0, 1.0, dtype=dtype)
    return tf.zeros(shape, dtype)  # labels: class 0 is always valid


def choose(model, batch):
    """Sets `model.jit_compile` to the faster setting for `batch`, measured or cached."""
    parameters = sum(int(np.prod(v.shape)) for v in model.generator.trainable_variables
                     + model.discriminator.trainable_variables)
    if batch is None or parameters < MIN_PARAMETERS:
        return  # the rule chosen at compile time stays
    key = signature(model, batch)
    cache = _read_cache()
    if key in cache:
        entry = cache[key]
        model.jit_compile = bool(entry["jit_compile"])
        model.train_function = None
        _log(entry, f"measured earlier, cached in {cache_path()}")
        return
    ms_plain, ms_xla, train_functions = measure(model, batch)
    use_xla = ms_xla < ms_plain
    model.jit_compile = use_xla
    # The chosen function is already traced (and XLA-compiled): fit reuses it.
    model.train_function = train_functions[use_xla]
    entry = {"jit_compile": use_xla, "ms_plain": ms_plain, "ms_xla": ms_xla}
    cache[key] = entry
    _write_cache(cache)
    _log(entry, "measured")


def measure(model, batch):
    """(ms per step without XLA, with XLA, {False: fn, True: fn}); all state restored afterwards.

    XLA failing to compile the step (an op it lacks) counts as infinitely slow.
    """
    model.build_optimizer_slots()  # now, or the slots would be born inside the timing steps
    state = _all_variables(model)
    saved = [v.numpy() for v in state]
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    iterator = iter(model.distribute_strategy.experimental_distribute_dataset(dataset))
    functions, best = {}, {False: float("inf"), True: float("inf")}
    try:
        for use_xla in (False, True):
            model.jit_compile = use_xla
            model.make_train_function(force=True)
            functions[use_xla] = model.train_function
            try:
                for _ in range(WARMUP_STEPS):
                    _timed(functions[use_xla], iterator, model)
            except Exception:  # noqa: BLE001  XLA cannot compile this step: it cannot be chosen
                if not use_xla:
                    raise
                del functions[use_xla]
        for round_ in range(ROUNDS):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for use_xla in order:
                if use_xla in functions:
                    best[use_xla] = min(best[use_xla], _timed(functions[use_xla], iterator, model))
            if max(best.values()) > CLEAR_RATIO * min(best.values()):
                break
    finally:
        for variable, value in zip(state, saved):
            variable.assign(value)
    functions.setdefault(True, None)
    steps = max(1, int(model.steps_per_execution))
    return best[False] * 1000 / steps, best[True] * 1000 / steps, functions


def _timed(function, iterator, model):
    start = time.perf_counter()
    function(iterator)
    model.g_optimizer.iterations.numpy()  # waits for the step to finish
    return time.perf_counter() - start


def _all_variables(model):
    """Every variable a train step can change, once each."""
    candidates = (list(model.variables) + list(model.metrics_variables)
                  + list(model.d_optimizer.variables) + list(model.g_optimizer.variables))
    unique, seen = [], set()
    for variable in candidates:
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique


def signature(model, batch):
    """A hash of everything the step's speed depends on (see the module's docstring)."""
    def layers(network):
        return [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "name"})
                for layer in network._flatten_layers(include_self=False)
                if not isinstance(layer, keras.Model)]

    settings = {k: v for k, v in model.get_config().items() if k not in ("name", "seed", "generator", "discriminator")}
    described = {
        "model": type(model).__name__,
        "settings": settings,
        "generator": layers(model.generator),
        "discriminator": layers(model.discriminator),
        "optimizers": [type(model.d_optimizer).__name__, type(model.g_optimizer).__name__],
        "batch": [(list(t.shape), t.dtype.name) for t in tf.nest.flatten(batch)],
        "steps_per_execution": int(model.steps_per_execution),
        "device": _device(),
        "versions": [tf.__version__, keras.__version__],
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _device():
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return ["gpu", [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]]
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return ["cpu", _cpu_name(), threads, precision.cpu_has_native_bfloat16()]


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_path():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_gans", "xla_choice.json")


def _read_cache():
    # A cache never stops training: unreadable or damaged, it is as good as empty.
    try:
        with open(cache_path()) as f:
            cache = json.load(f)
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(cache):
    path = cache_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w") as f:
            json.dump(cache, f, indent=1, sort_keys=True)
        os.replace(temporary, path)  # atomic: a concurrent run reads the old or the new file
    except OSError:
        pass


def _log(entry, how):
    if entry["jit_compile"]:
        line = f"XLA on for this model ({entry['ms_xla']:.1f} ms/step vs {entry['ms_plain']:.1f} ms without XLA; {how})"
    else:
        other = "XLA failed to compile" if entry["ms_xla"] == float("inf") else f"{entry['ms_xla']:.1f} ms with XLA"
        line = f"XLA off for this model ({entry['ms_plain']:.1f} ms/step vs {other}; {how})"
    print(f"keras_gans: {line}", file=sys.stderr, flush=True)
