"""Subprocess half of tests/test_distribute.py (run as a script, never collected by pytest).

  python tests/_distribute_worker.py mirrored OUT.json
      Two logical CPU devices (set before TensorFlow initialises its devices,
      hence a process of its own); for each model, trains a few steps without
      a strategy and under MirroredStrategy on the same global batches and
      noise, and writes the largest weight difference per model to OUT.json.

  TF_CONFIG=... python tests/_distribute_worker.py worker OUTPUT_DIR WEIGHTS.npz
      One worker of a MultiWorkerMirroredStrategy run through keras_gans.training.run.run;
      saves its final weights to WEIGHTS.npz (and WEIGHTS_history.json).

  TF_CONFIG=... python tests/_distribute_worker.py long_worker OUTPUT_DIR WEIGHTS.npz
      The same with 5,000 steps and a checkpoint every 5, to be stopped by a
      signal: prints "STOPPED {json}" and exits with 128 + the signal.

  TF_CONFIG=... python tests/_distribute_worker.py budget_worker OUTPUT_DIR WEIGHTS.npz
      The same with 40 epochs and --max_minutes=0.1, which must stop them early;
      also writes WEIGHTS_history.json (epochs done, discriminator updates).
"""

import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

REPLICAS = 2
BATCH = 8  # global critic batch: 4 examples per replica
STEPS = 2
N_CRITIC = 2
IMAGE_SHAPE = (8, 8, 1)
CLASSES = 3


def replica_order(step_batch, n_critic, replicas):
    """Reorders one fit batch so that `replicas` replicas see the same critic batches as one device.

    A fit batch is n_critic critic batches [c0 | c1 | ...]. fit() gives replica
    r the r-th contiguous chunk and the model splits that chunk into n_critic
    parts, so the k-th critic update of the replicas together sees part k of
    every chunk. Putting rows [r*b/R, (r+1)*b/R) of every c_k into chunk r makes
    that union exactly c_k, in order (and row order is what the noise follows).
    """
    critic_batches = np.split(step_batch, n_critic)
    parts = [np.split(c, replicas) for c in critic_batches]
    return np.concatenate([parts[k][r] for r in range(replicas) for k in range(n_critic)])


def build(name, strategy):
    import keras

    from keras_gans.models import MODELS

    # float32 whatever the CPU: "auto" would pick bfloat16 on CPUs with native bfloat16, where the
    # replicas' differently ordered sums round apart by ~1e-4, far above float32's rounding checked here.
    kwargs = dict(image_shape=IMAGE_SHAPE, latent_dim=4, width=8, seed=3, n_critic=N_CRITIC, instance_noise=0.1,
                  precision="float32")
    if name.endswith("_ema"):  # with generator averaging: its update runs on every replica
        name = name[: -len("_ema")]
        kwargs["ema_decay"] = 0.5
    if name.endswith("_lazyr1"):  # lazy R1: a tf.cond over synchronised BatchNorm, due on D updates 0 and 2
        name = name[: -len("_lazyr1")]
        kwargs.update(r1_gamma=1.0, r1_interval=2)
    if name.endswith("_cond"):  # class-conditional: labels must travel with their images
        name = name[: -len("_cond")]
        kwargs["num_classes"] = CLASSES
    keras.utils.set_random_seed(1)
    with strategy.scope():
        if name == "wgan":
            kwargs["clip_value"] = 0.05  # active (weights start ~N(0, 0.02)) but not saturating
        model = MODELS[name](**kwargs)
        # SGD, not the models' Adam/RMSprop: those are invariant to the gradient's
        # scale, so a loss averaged per replica (gradients x2) would go unnoticed.
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05), jit_compile=False
        )
    return model


def mirrored(out_path):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * REPLICAS)
    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(REPLICAS)])
    images = np.random.default_rng(0).uniform(-1, 1, (STEPS * BATCH * N_CRITIC, *IMAGE_SHAPE)).astype("float32")
    step_batches = np.split(images, STEPS)
    reordered = np.concatenate([replica_order(b, N_CRITIC, REPLICAS) for b in step_batches])
    labels = np.random.default_rng(1).integers(0, CLASSES, len(images)).astype("int32")
    reordered_labels = np.concatenate([replica_order(b, N_CRITIC, REPLICAS) for b in np.split(labels, STEPS)])
    results = {}
    for name in ("gan", "dcgan", "wgan", "wgan_gp", "dcgan_ema", "wgan_gp_cond", "dcgan_lazyr1"):
        start = time.time()
        conditional = name.endswith("_cond")
        single = build(name, tf.distribute.get_strategy())
        data = (images, labels) if conditional else images
        single.fit(tf.data.Dataset.from_tensor_slices(data).batch(BATCH * N_CRITIC), epochs=1, verbose=0)
        replicated = build(name, strategy)
        data = (reordered, reordered_labels) if conditional else reordered
        replicated.fit(tf.data.Dataset.from_tensor_slices(data).batch(BATCH * N_CRITIC), epochs=1, verbose=0)
        initial = build(name, tf.distribute.get_strategy())
        results[name] = {
            "max_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(single.get_weights(), replicated.get_weights())),
            # How far training moved the weights: the scale a real bug shows at.
            "moved": max(float(np.max(np.abs(a - b))) for a, b in zip(single.get_weights(), initial.get_weights())),
            "replicas": replicated.distribute_strategy.num_replicas_in_sync,
            "seconds": time.time() - start,
        }
    with open(out_path, "w") as f:
        json.dump(results, f)


def worker(output_dir, weights_path, long_run=False, budget=False):
    from keras_gans.config import TrainConfig
    from keras_gans.training.preemption import TrainingInterrupted
    from keras_gans.training.run import run

    settings = dict(
        model="dcgan", width=8, latent_dim=8, epochs=1, batch_size=8, steps_per_epoch=2, max_images=64,
        strategy="multi_worker", output_dir=output_dir, grid_images=4, verbose=0, tensorboard=False,
    )
    if long_run:  # long enough to be pre-empted in the middle, checkpointing as it goes
        settings.update(steps_per_epoch=5000, checkpoint_every=5)
    if budget:  # 40 epochs would take minutes; the 6-second budget must end them all at one epoch end
        settings.update(epochs=40, steps_per_epoch=10, max_minutes=0.1)
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in settings.items() if k in fields})
    try:
        result = run(config)
    except TrainingInterrupted as stopped:  # as train.py reports it
        print("STOPPED " + json.dumps({"global_step": stopped.global_step, "checkpoint": stopped.checkpoint}), flush=True)
        sys.exit(stopped.exit_code)
    np.savez(weights_path, *result.model.get_weights())
    with open(weights_path[:-len(".npz")] + "_history.json", "w") as f:
        json.dump({"epochs": len(result.history["d_loss"]),
                   "d_updates": int(result.model.d_optimizer.iterations.numpy())}, f)
    # The first training batch as this worker reads it (its own part only: run.training_dataset).
    from keras_gans.training.run import load_data, training_dataset

    strategy = result.model.distribute_strategy
    batch = next(iter(training_dataset(load_data(config), 8, config, strategy, 0)))
    (local,) = strategy.experimental_local_results(batch)  # one replica per worker
    np.save(weights_path[:-len(".npz")] + "_batch.npy", np.asarray(local))


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        mirrored(sys.argv[2])
    else:
        worker(sys.argv[2], sys.argv[3], long_run=sys.argv[1] == "long_worker", budget=sys.argv[1] == "budget_worker")
