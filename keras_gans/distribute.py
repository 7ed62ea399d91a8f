"""tf.distribute helpers: strategy from a flag, replica-aware noise, which process writes files.

One code path from a laptop CPU to many GPUs, machines or TPU cores:
`create_strategy(name, tpu)` turns `--strategy` into a `tf.distribute.Strategy`;
the model, both optimisers and the metrics are created inside its `scope()`,
and `model.fit` distributes the dataset. `--batch_size` is the GLOBAL batch:
each of N replicas gets batch_size / N examples per step.

Three things make training independent of the replica count:
  * every loss term is averaged over the GLOBAL batch (`GAN._average`),
    because the optimiser sums gradients across replicas;
  * noise (latents, instance noise, WGAN-GP's alpha, the GAN's dropout masks
    via `networks.layers.ReplicaDropout`) comes from `replica_noise`: each
    replica draws its own slice of ONE global batch of noise keyed by (seed,
    draw, step), so replicas get different noise and the global batch of
    noise does not depend on how it is split (training on 1 or 8 replicas
    sees the same numbers);
  * BatchNorm is synchronised (see `keras_gans.networks.dcgan`).
XLA is off under a strategy (`GAN.compile`): it fails across devices.

Multi-worker `fit` is broken upstream (keras-team/keras#20585,
tensorflow/tensorflow#72388); `GAN` works around it (see `multi_worker_logs`).
"""

import json
import os
import re
import shutil
import tempfile

import tensorflow as tf

from keras_gans.errors import UserError

STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")


def is_chief():
    """True unless TF_CONFIG names this process a non-chief worker.

    In a multi-worker cluster the chief is the task of type "chief", or
    worker 0 when the cluster has no chief. Only the chief writes samples,
    checkpoints, histories and exports, so two workers never clobber a file.
    """
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    cluster = config.get("cluster") or {}
    task_type, index = task.get("type"), int(task.get("index", 0))
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    if task_type == "worker":
        return "chief" not in cluster and index == 0
    return False


def worker_scratch_dir():
    """A fresh private folder for a non-chief worker's files (see `remove_scratch_dir`)."""
    return tempfile.mkdtemp(prefix="keras_gans_worker_")


def remove_scratch_dir(path):
    shutil.rmtree(path, ignore_errors=True)


def _tf_config():
    """TF_CONFIG parsed, {} when unset; a UserError when it is not valid JSON."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"TF_CONFIG is not valid JSON ({error}): fix or unset the TF_CONFIG environment variable") from None
    if not isinstance(config, dict):
        raise UserError("TF_CONFIG must be a JSON object with 'cluster' and 'task': fix or unset it")
    return config


def _cluster_size(config):
    cluster = config.get("cluster") or {}
    return sum(len(cluster.get(kind) or []) for kind in ("chief", "worker"))


def check_strategy_flags(name, tpu=None):
    """Raises a one-line UserError for an unknown --strategy or --tpu without a TPU strategy."""
    if name not in STRATEGIES:
        raise UserError(f"unknown --strategy={name!r}: use one of {', '.join(STRATEGIES)}")
    if tpu and name not in ("auto", "tpu"):
        raise UserError(f"--tpu={tpu!r} needs --strategy=tpu (or auto), got --strategy={name}")


def create_strategy(name="auto", tpu=None):
    """The `tf.distribute.Strategy` named by `--strategy` (and `--tpu`).

    Args:
        name: "auto" (TPU if `tpu` is given, else multi-worker if TF_CONFIG
            describes a cluster, else mirrored over >1 GPU, else default),
            "default" (one device, no distribution), "mirrored" (all GPUs
            of this machine), "multi_worker" (several machines, from
            TF_CONFIG) or "tpu".
        tpu: TPU name or address (grpc://IP:8470), "local" for a TPU VM;
            None or "" lets the resolver find it (Cloud TPU environments).

    Call it before any other TensorFlow work: multi-worker collectives must
    be configured at program start.

    Raises:
        UserError: an unknown name, `multi_worker` without TF_CONFIG, `--tpu`
            with a non-TPU strategy, or a TPU that cannot be reached.
    """
    check_strategy_flags(name, tpu)
    config = _tf_config()
    if name == "auto":
        if tpu:
            name = "tpu"
        elif _cluster_size(config) > 1:
            name = "multi_worker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if not config.get("cluster") or not config.get("task"):
            raise UserError(
                "--strategy=multi_worker needs the TF_CONFIG environment variable (a JSON 'cluster' of "
                "worker addresses and this process's 'task'): set it on every worker, see README 'Training on many devices'"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    return _tpu_strategy(tpu)


def _tpu_strategy(tpu):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        where = f"--tpu={tpu!r}" if tpu else "no --tpu given and none found"
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(
            f"cannot reach a TPU ({where}): {first_line}; pass --tpu=NAME, grpc://IP:8470 or local (TPU VM)"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def is_multi_worker(strategy):
    """True for a strategy that spans several processes (collectives across workers)."""
    # The same test Keras uses to pick its multi-worker code paths.
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


def worker_count(strategy):
    """The number of worker processes (input pipelines) of `strategy`: 1 unless multi-worker."""
    if not is_multi_worker(strategy):
        return 1
    return int(strategy.extended._num_workers)


def is_distributed(strategy):
    """True for any strategy other than TensorFlow's default (no distribution) one."""
    with strategy.scope():
        return tf.distribute.has_strategy()


def replica_info():
    """(replica id, replicas in sync) for the code running now; (0, 1) outside tf.distribute."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: one global computation
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


# Named explicitly rather than the device's "auto_select". Even so, an
# XLA-compiled step draws other numbers than a plain one when the seed is held
# in a variable (seen here on CPU, TF 2.21): the noise stream, like the
# kernels, belongs to the execution path, so exact resume needs the same one.
PHILOX = "philox"


def replica_noise(kind, local_batch, shape, key, draw, counter, dtype=tf.float32):
    """This replica's rows of one GLOBAL batch of stateless noise.

    The global batch (local_batch * replicas rows) is a pure function of
    (key, draw, counter), and replica r takes rows [r * local_batch, (r+1) *
    local_batch), the same examples `fit` hands it from a global data batch.
    So replicas draw DIFFERENT noise (a SeedGenerator mirrored to every
    replica gives them all the same: keras-team/keras#18426), and the noise
    of the global batch is the same on 1, 2 or 8 replicas, which makes
    distributed training reproduce single-device training.

    Each replica generates the whole global batch and keeps its slice: the
    price is replicas x the noise of one replica (latents, or one image batch
    for instance noise), negligible next to the networks.

    Args:
        kind: "normal" (N(0, 1)) or "uniform" (U[0, 1)).
        local_batch: rows this replica needs (int or scalar tensor).
        shape: shape of one example's noise (tuple).
        key: int64 [2] base seed (the model's seed variable).
        draw: int, which random quantity this is (latents, instance noise on
            real / fake, penalty interpolation...): different draws in one
            step are independent.
        counter: int64 scalar that changes every step and is the same on all
            replicas (an optimiser's `iterations`).
    """
    replica_id, replicas = replica_info()
    seed = tf.cast(key, tf.int64)
    seed = tf.random.experimental.stateless_fold_in(seed, tf.constant(draw, tf.int64))
    seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(counter, tf.int64))
    shape = [int(d) for d in shape]
    global_shape = [local_batch * replicas, *shape]
    if kind == "normal":
        noise = tf.random.stateless_normal(global_shape, seed=seed, dtype=dtype, alg=PHILOX)
    elif kind == "uniform":
        noise = tf.random.stateless_uniform(global_shape, seed=seed, dtype=dtype, alg=PHILOX)
    else:
        raise ValueError(f"kind must be 'normal' or 'uniform', got {kind!r}")
    if replicas == 1:
        return noise
    return tf.reshape(noise, [replicas, local_batch, *shape])[replica_id]


def multi_worker_logs(logs, strategy):
    """Train-step logs in the form Keras' `fit` can reduce under MultiWorkerMirroredStrategy.

    Multi-worker `fit` is broken upstream in Keras 3.15 / TF 2.21 in two
    places (keras-team/keras#20585, tensorflow/tensorflow#72388):
      1. `_maybe_symbolic_build` reduces the first data batch eagerly with
         `strategy.reduce("MEAN", batch, axis=None)`, which raises "Attempt
         to convert a value (PerReplica...)". `GAN._maybe_symbolic_build`
         builds without a data batch instead (a GAN is built when constructed).
      2. Each step's logs are reduced with `strategy.reduce("MEAN", v, axis=0)`
         (hard-coded "auto" reduction, so `distribute_reduction_method` cannot
         change it), which fails for scalars: "Invalid reduction dimension 0
         for input with 0 dimensions". This function gives each log shape [1]:
         the mean over axis 0 of the replicas' values is then the scalar mean
         over all replicas, what every other strategy logs.
    Returns `logs` unchanged under any other strategy.
    """
    if not is_multi_worker(strategy):
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}


def describe_worker_failure(error):
    """One line for an error that means a multi-worker cluster lost a worker; None otherwise.

    When a worker dies, the others fail inside a collective op with a long
    UnavailableError ("Collective ops is aborted by: ... The following tasks
    are unhealthy (stopped sending heartbeats): /job:worker/replica:0/task:1").
    `train.py` prints this line instead of that traceback.
    """
    if _cluster_size(_tf_config()) < 2:
        return None
    if not isinstance(error, (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.DeadlineExceededError)):
        return None
    text = str(error)
    tasks = sorted({f"{job}:{task}" for job, task in re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", text)})
    me = (_tf_config().get("task") or {})
    mine = f"{me.get('type')}:{me.get('index')}"
    lost = [task for task in tasks if task != mine] or tasks
    who = ", ".join(lost) if lost else "another worker"
    return (
        f"multi-worker training stopped: {who} stopped responding (crashed, killed or unreachable; see its log); "
        "restart every worker with the same command: training resumes from the chief's last checkpoint"
    )


def agreed_stop_signal(strategy, local_signal):
    """The stop signal that any worker of a multi-worker run has received, the same on every worker.

    Pre-emption usually reaches one machine of a cluster. If only that worker
    stopped, the others would wait for it in the next step's collective until
    their heartbeat timeout, and the workers would not agree on the step to
    checkpoint. So at the end of every step each worker contributes the
    signal it has caught (0 for none) to one all-reduce; all of them see the
    same answer at the same step and stop together. (TensorFlow's
    `tf.distribute.experimental.PreemptionCheckpointHandler` reaches the same
    agreement through the coordination service, but it drives its own
    `tf.train.Checkpoint` and training loop, and Keras 3's `fit` offers no
    hook for it.) The call is a collective: every worker must make it at the
    same points, which the checkpointer does (the end of every step).

    Args:
        strategy: the run's strategy; anything but a multi-worker one returns
            `local_signal` at once.
        local_signal: this process's caught signal number, or None.

    Returns:
        A signal number, or None when no worker has been signalled (SIGTERM
        wins over SIGINT if workers caught different ones).
    """
    if not is_multi_worker(strategy):
        return local_signal
    caught = [0] * 65  # one slot per signal number 0..64
    if local_signal:
        caught[int(local_signal)] = 1
    total = _sum_over_workers(strategy, caught)
    signalled = [signum for signum, count in enumerate(total.tolist()) if count]
    if not signalled:
        return None
    return 15 if 15 in signalled else signalled[0]  # 15: SIGTERM


def agreed_any(strategy, local_flag):
    """True on every worker of a multi-worker run if `local_flag` is true on any of them.

    A collective (one all-reduce), like `agreed_stop_signal`: every worker
    must call it at the same points. Other strategies return `local_flag`.
    """
    if not is_multi_worker(strategy):
        return bool(local_flag)
    return int(_sum_over_workers(strategy, 1 if local_flag else 0)) > 0


def _sum_over_workers(strategy, counts):
    """`counts` (int32 values) summed over every replica of `strategy`, as numpy: one all-reduce."""
    value = tf.constant(counts, tf.int32)
    return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.identity(value)), axis=None).numpy()
