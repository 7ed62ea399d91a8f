"""Numeric precision: which Keras dtype policy a run uses, and whether XLA pays with it.

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
    """The Keras dtype policy name that `precision` means on this machine."""
    if precision not in CHOICES:
        raise UserError(f"unknown --precision={precision!r}: use one of {', '.join(CHOICES)}")
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if not has_gpu() and cpu_has_native_bfloat16() else "float32"


def default_jit_compile():
    """XLA for the train step unless the current policy computes in bfloat16 on a CPU."""
    compute_dtype = keras.mixed_precision.global_policy().compute_dtype
    return not (compute_dtype == "bfloat16" and not has_gpu())


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
