"""An `ImageSource` (decoded uint8 images) -> batched float tf.data.Dataset in [-1, 1]."""

import numpy as np
import tensorflow as tf

from keras_gans.errors import UserError


def make_dataset(source, batch_size, shuffle=True, seed=None, drop_remainder=True, repeat=False, start_batch=0,
                 *, labels=False, shard=None):
    """Batches an `ImageSource` into float32 [B, H, W, C] tensors in [-1, 1].

    Shuffling is over the whole dataset and reshuffled every pass; with a
    `seed` the order is reproducible. Full batches only by default: a ragged
    last batch would retrace the compiled train step and skew BatchNorm.

    With `repeat`, the stream is endless and pass p is ordered by a stateless
    shuffle of (seed, p) alone, so it is the same stream in every process
    (tf.data's own reshuffling restarts its sequence in a new process), and
    batches run on across pass boundaries. `start_batch` then starts the
    stream at that batch, exactly: this is how a resumed run picks up its
    data where the interrupted one stopped, at no cost.

    Args:
        source: an `ImageSource`.
        batch_size: images per batch.
        shuffle: shuffle the images (every pass anew).
        seed: seed of the order; None for a random one.
        drop_remainder: drop a last batch smaller than `batch_size` (each pass
            without `repeat`; only in `start_batch` arithmetic with it).
        repeat: an endless stream of passes.
        start_batch: with `repeat`, the index of the first batch to yield.
        labels: yield (images, int32 labels [B]) pairs; the source must have labels.
        shard: (worker index, number of workers), with `repeat`: yield only
            this worker's contiguous part of every global batch (batch_size /
            workers images), read alone (a streamed source reads only those
            rows); the workers' parts, in worker order, are the global batch.
            tf.distribute's own sharding is then turned off. For
            `distribute_datasets_from_function` under multi-worker training.
    """
    batch_size = int(batch_size)
    start_batch = int(start_batch)
    if batch_size <= 0:
        raise UserError(f"batch size must be positive, got {batch_size}")
    if drop_remainder and batch_size > len(source):
        raise UserError(
            f"batch size {batch_size} is larger than the dataset {source.name!r} ({len(source)} images): "
            "lower --batch_size"
        )
    if start_batch < 0:
        raise ValueError(f"start_batch must be >= 0, got {start_batch}")
    if start_batch and not repeat:
        raise ValueError("start_batch needs repeat=True: only the endless stream has a position to resume")
    if labels and source.labels is None:
        raise UserError(source.no_labels_message())
    # Labels travel with their images through the same gather/shuffle, so pairs never mix.
    arrays = (source.images, source.labels.astype(np.int32)) if labels else source.images
    on_disk = not isinstance(source.images, np.ndarray)  # a stream.DiskImages: read per batch
    if on_disk and not repeat:
        # The same shuffle of indices as of images (tf's shuffle depends on the seed and size only).
        dataset = tf.data.Dataset.range(len(source))
        if shuffle:
            dataset = dataset.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if shard is not None:
        if not repeat:
            raise ValueError("shard needs repeat=True")
        worker, workers = shard
        if workers <= 0 or not 0 <= worker < workers or batch_size % workers:
            raise UserError(
                f"batch size {batch_size} cannot be split over {workers} workers: use a multiple of {workers}"
            )
    if repeat:
        dataset = _endless_indices(len(source), batch_size, shuffle, seed, start_batch)
        if shard is not None:
            dataset = dataset.map(lambda index: _worker_part(index, batch_size, *shard))
    if on_disk:
        dataset = dataset.map(lambda index: _read_rows(source, index, labels),
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    elif repeat:
        tensors = tf.nest.map_structure(tf.constant, arrays)
        dataset = dataset.map(
            lambda index: tf.nest.map_structure(lambda t: tf.gather(t, index), tensors),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True,
        )
    else:
        dataset = tf.data.Dataset.from_tensor_slices(arrays)
        if shuffle:
            dataset = dataset.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    normalise = (lambda images, y: (to_unit_range(images), y)) if labels else to_unit_range
    dataset = dataset.map(normalise, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shard is not None:  # already this worker's part: tf.distribute must not shard it again
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        dataset = dataset.with_options(options)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _worker_part(index, batch_size, worker, workers):
    """Worker `worker`'s contiguous slice of a global batch of indices."""
    part = batch_size // workers
    return index[worker * part:(worker + 1) * part]


def _read_rows(source, index, labels):
    """Images (and labels) at a batch of indices, read from a disk-backed source."""
    images = tf.numpy_function(source.images.take, [index], tf.uint8, stateful=False)
    images.set_shape([None, *source.image_shape])
    if not labels:
        return images
    return images, tf.gather(tf.constant(source.labels.astype(np.int32)), index)


def _endless_indices(size, batch_size, shuffle, seed, start_batch):
    """Batches of image indices: passes ordered by (seed, pass), from batch `start_batch` on.

    Batching indices, not images, keeps the dataset light, and jumping to a
    batch is arithmetic: the pass it falls in, then the offset inside it.
    """
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    first = start_batch * batch_size
    first_pass, offset = divmod(first, size)

    def one_pass(p):
        indices = tf.range(size, dtype=tf.int64)
        if shuffle:
            indices = tf.random.experimental.stateless_shuffle(indices, seed=tf.stack([tf.constant(seed, tf.int64), p]))
        return tf.data.Dataset.from_tensor_slices(indices)

    passes = tf.data.Dataset.range(first_pass, np.iinfo(np.int64).max)
    return passes.flat_map(one_pass).skip(offset).batch(batch_size, drop_remainder=True)


def to_unit_range(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0
