"""keras.io's DCGAN and WGAN-GP networks passed in: the default path against every forced setting.

    python benchmarks/user_networks.py --rounds 1 --output benchmarks/results/user_networks.json

The networks are those of keras.io's examples "DCGAN to generate face images"
(64x64x3, latent 128) and "WGAN-GP" (28x28x1 padded to 32, latent 128,
5x5 stride-2 critic up to 512 filters), with two changes: the DCGAN
discriminator's final sigmoid is dropped (keras_gans' losses take logits and
refuse a sigmoid), and the batch is 32 with 3 critic updates per step for
both (keras.io: 32, and 512 for WGAN-GP, too slow for a 2-core CPU).

Each run is a fresh process (`--one`), on random images of the right shape
(speed does not depend on pixel values): `warmup` steps, then `steps` timed
steps. Settings per network: "default" (`keras_gans.DCGAN(generator=...,
discriminator=...)`, `compile()`: precision "auto", XLA measured at the
first fit, with a fresh cache so the measurement really runs; its cost is
in `first_step_seconds`), then each of {XLA, no XLA} x {float32,
mixed_bfloat16} forced. Reported: images/s (real images consumed) and
default / best forced.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker  # noqa: E402  (benchmarks/worker.py: write_report)
BATCH, N_CRITIC, LATENT = 32, 3, 128
SETTINGS = [("default", "auto", "auto")] + [
    (f"{p}{'+XLA' if x else ''}", p, x) for p in ("float32", "mixed_bfloat16") for x in (False, True)]


def kerasio_dcgan(keras):
    layers = keras.layers
    discriminator = keras.Sequential([
        keras.Input((64, 64, 3)),
        layers.Conv2D(64, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Flatten(), layers.Dropout(0.2), layers.Dense(1),  # keras.io: Dense(1, activation="sigmoid")
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input((LATENT,)), layers.Dense(8 * 8 * 128), layers.Reshape((8, 8, 128)),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(256, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(512, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(3, 5, padding="same", activation="tanh"),
    ], name="generator")
    return generator, discriminator, (64, 64, 3)


def kerasio_wgan_gp(keras):
    layers = keras.layers

    def conv_block(x, filters, dropout):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        return layers.Dropout(0.3)(x) if dropout else x

    images = keras.Input((28, 28, 1))
    x = layers.ZeroPadding2D((2, 2))(images)
    x = conv_block(x, 64, False)
    x = conv_block(x, 128, True)
    x = conv_block(x, 256, True)
    x = conv_block(x, 512, False)
    x = layers.Dropout(0.2)(layers.Flatten()(x))
    discriminator = keras.Model(images, layers.Dense(1)(x), name="critic")

    def upsample_block(x, filters, activation):
        x = layers.UpSampling2D((2, 2))(x)
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        if activation is None:
            x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
            return x
        return layers.Activation(activation)(x)

    z = keras.Input((LATENT,))
    x = layers.Dense(4 * 4 * 256, use_bias=False)(z)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x))
    x = layers.Reshape((4, 4, 256))(x)
    x = upsample_block(x, 128, None)
    x = upsample_block(x, 64, None)
    x = upsample_block(x, 1, "tanh")
    generator = keras.Model(z, layers.Cropping2D((2, 2))(x), name="generator")
    return generator, discriminator, (28, 28, 1)


NETWORKS = {"kerasio_dcgan": ("DCGAN", kerasio_dcgan), "kerasio_wgan_gp": ("WGANGP", kerasio_wgan_gp)}


def one(network, precision, jit_compile, steps, warmup):
    """A run in this process; prints its RESULT line."""
    import keras
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, REPO)
    import keras_gans

    model_name, build = NETWORKS[network]
    keras.utils.set_random_seed(0)
    generator, discriminator, shape = build(keras)
    model = getattr(keras_gans, model_name)(image_shape=shape, latent_dim=LATENT, generator=generator,
                                            discriminator=discriminator, n_critic=N_CRITIC, precision=precision)
    model.compile(jit_compile=jit_compile)
    images = np.random.default_rng(0).uniform(-1, 1, (BATCH * N_CRITIC * 4, *shape)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(BATCH * N_CRITIC, drop_remainder=True).repeat()
    times = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[Clock()], verbose=0)
    seconds = times[-1] - times[warmup - 1]
    print("RESULT " + json.dumps({
        "network": network, "precision": model.precision, "xla_used": bool(model.jit_compile),
        "real_images_per_s": round(steps * BATCH * N_CRITIC / seconds, 1),
        "seconds_per_step": round(seconds / steps, 3), "first_step_seconds": round(times[0] - start, 1)}),
        flush=True)


def run(network, precision, jit_compile, steps, warmup, cache_dir):
    command = [sys.executable, os.path.abspath(__file__), "--one", network, precision, str(jit_compile),
               "--steps", str(steps), "--warmup", str(warmup)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", XDG_CACHE_HOME=cache_dir)
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["log"] = [line for line in done.stderr.splitlines() if line.startswith("keras_gans:")]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", nargs=3, metavar=("NETWORK", "PRECISION", "JIT"), help=argparse.SUPPRESS)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--output")
    args = parser.parse_args()
    if args.one:
        network, precision, jit = args.one
        return one(network, precision, {"auto": "auto", "True": True, "False": False}[jit], args.steps, args.warmup)

    runs, summary = [], {}
    for network in args.networks.split(","):
        per_setting = {name: [] for name, _, _ in SETTINGS}
        for round_ in range(args.rounds):
            order = SETTINGS if round_ % 2 == 0 else SETTINGS[::-1]
            for name, precision, jit in order:
                with tempfile.TemporaryDirectory() as cache_dir:  # the default path measures every time
                    result = run(network, precision, jit, args.steps, args.warmup, cache_dir)
                result.update(setting=name, round=round_ + 1)
                runs.append(result)
                per_setting[name].append(result["real_images_per_s"])
                print(json.dumps(result), flush=True)
        best = {name: max(values) for name, values in per_setting.items()}
        forced_best = max((v, k) for k, v in best.items() if k != "default")
        summary[network] = {"images_per_s": best, "best_forced": forced_best[1],
                            "default_over_best_forced": round(best["default"] / forced_best[0], 2)}
    print("\n| network | " + " | ".join(name for name, _, _ in SETTINGS) + " | default / best forced |")
    print("| --- " * (len(SETTINGS) + 2) + "|")
    for network, s in summary.items():
        cells = " | ".join(f"{s['images_per_s'][name]:.0f}" for name, _, _ in SETTINGS)
        print(f"| {network} | {cells} | **{s['default_over_best_forced']}** ({s['best_forced']}) |")
    machine = {"load_average_at_end": os.getloadavg(), "cpus": os.cpu_count()}
    worker.write_report(args.output, machine, summary=summary, runs=runs)


if __name__ == "__main__":
    main()
