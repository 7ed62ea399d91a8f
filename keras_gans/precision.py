"""Numeric precision: which Keras dtype policy a model computes in, and whether XLA pays with it.

Every model carries its own precision (`GAN(precision="auto")`): its networks'
layers get per-layer dtype policies (`apply`), so `keras_gans.DCGAN()` in a
plain Python session computes exactly as `train.py --precision=auto` does,
with no global Keras policy to set by hand.

On CPUs with native bfloat16 arithmetic (AVX512_BF16 or AMX), TensorFlow's
oneDNN kernels run these convolutions about twice as fast in bfloat16 as in
float32 (measured in BENCHMARKS.md), so "auto" picks `mixed_bfloat16` there:
variables, optimiser state, losses and the networks' outputs (tanh images,
logits) stay float32, the layers compute in bfloat16. XLA's CPU backend does
not use those instructions (bfloat16 under XLA is no faster than float32), so
the train step is not XLA-compiled in that case. Everywhere else "auto" is
float32 with XLA, the fastest float32 path measured.

`mixed_float16` (GPUs) is supported with dynamic loss scaling on BOTH
optimisers (`keras.optimizers.LossScaleOptimizer`, applied in `GAN.compile`).
"""

import functools

import keras
import tensorflow as tf

from keras_gans.errors import UserError

CHOICES = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


@functools.lru_cache(maxsize=None)
def cpu_has_native_bfloat16():
    """True on x86 CPUs advertising avx512_bf16 or amx_bf16 (Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def has_gpu():
    return bool(tf.config.list_physical_devices("GPU"))


def resolve(precision="auto"):
    """The Keras dtype policy name that `precision` means on this machine.

    "auto": a global Keras policy set by the caller (other than float32, e.g.
    inside `policy(...)` below) wins, as it did before models carried their
    own precision; otherwise mixed_bfloat16 on CPUs with native bfloat16, else float32.
    """
    if precision not in CHOICES:
        raise UserError(f"unknown --precision={precision!r}: use one of {', '.join(CHOICES)}")
    if precision != "auto":
        return precision
    chosen_globally = keras.mixed_precision.global_policy().name
    if chosen_globally != "float32":
        return chosen_globally
    return "mixed_bfloat16" if not has_gpu() and cpu_has_native_bfloat16() else "float32"


def default_jit_compile(policy_name=None):
    """The rule used where XLA is not measured (`models.xla_choice`): XLA for the
    train step unless `policy_name` (default: the global policy) computes in bfloat16 on a CPU."""
    compute_dtype = keras.DTypePolicy(policy_name).compute_dtype if policy_name else (
        keras.mixed_precision.global_policy().compute_dtype)
    return not (compute_dtype == "bfloat16" and not has_gpu())


def network_policy(network):
    """The first non-float32 dtype policy among `network`'s layers, or "float32" when all are float32."""
    for layer in network._flatten_layers(include_self=False):
        if layer.dtype_policy.name != "float32":
            return layer.dtype_policy.name
    return "float32"


def apply(network, policy_name):
    """Makes a user's `network`, built wholly in float32 (Keras' default), compute under `policy_name`.

    Its output layers stay float32, so images and logits leave the network in
    float32 as they do from the built-in networks. A network that already
    holds any non-float32 layer was built with a precision in mind (the
    built-in ones, a saved model) and is left as it is; so is a subclassed
    network, whose output layers cannot be told apart. Variables stay
    float32 under every mixed policy, so this is safe on a built network.
    """
    if policy_name == "float32" or network_policy(network) != "float32":
        return network
    outputs = _output_layers(network)
    if outputs is None:
        return network
    for layer in network._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.InputLayer) or any(layer is out for out in outputs):
            continue
        if any(layer is inner for out in outputs for inner in out._flatten_layers()):
            continue  # inside a nested output model: it stays float32 as a whole
        layer.dtype_policy = policy_name
    return network


def _output_layers(network):
    if isinstance(network, keras.Sequential):
        return network.layers[-1:]
    if type(network).__name__ == "Functional":
        return [tensor._keras_history.operation for tensor in network.outputs]
    return None


class policy:
    """Context manager: build models under `precision` ("auto" resolved), then restore the old policy.

    Example:
        with keras_gans.precision.policy("auto"):
            model = keras_gans.DCGAN()
    """

    def __init__(self, precision="auto"):
        self.name = resolve(precision)

    def __enter__(self):
        self.previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(self.name)
        return self.name

    def __exit__(self, *exc):
        keras.mixed_precision.set_global_policy(self.previous)
        return False
