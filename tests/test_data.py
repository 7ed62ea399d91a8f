"""Dataset specs: the embedded sample, IDX files, image folders, TFDS (mocked), and bad input."""

import gzip
import os
import struct

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_gans import data
from keras_gans.errors import UserError


def test_embedded_sample_is_balanced_real_fashion_mnist():
    source = data.open_source("sample")
    assert source.images.shape == (6000, 28, 28, 1) and source.images.dtype == np.uint8
    assert np.bincount(source.labels).tolist() == [600] * 10
    assert os.path.exists(os.path.join(data.sample_dir(), "COPYRIGHT"))  # MIT notice kept beside the data


def test_load_yields_shuffled_float_batches_in_unit_range():
    first = next(iter(data.load("sample", batch_size=32, seed=1)))
    assert first.shape == (32, 28, 28, 1) and first.dtype.name == "float32"
    values = first.numpy()
    assert values.min() == pytest.approx(-1.0) and values.max() == pytest.approx(1.0)
    unshuffled = next(iter(data.load("sample", batch_size=32, shuffle=False))).numpy()
    assert not np.array_equal(values, unshuffled)
    np.testing.assert_array_equal(next(iter(data.load("sample", batch_size=32, seed=1))).numpy(), values)


def test_idx_reader_on_shared_fashion_mnist(shared_data):
    train = data.open_source(f"idx:{shared_data}/fashion-mnist")
    test = data.open_source(f"idx:{shared_data}/fashion-mnist", split="test")
    assert train.images.shape == (60000, 28, 28, 1) and len(train.labels) == 60000
    assert test.images.shape == (10000, 28, 28, 1)
    assert set(np.unique(test.labels)) == set(range(10))


def test_idx_folder_without_the_split_names_the_fix(shared_data):
    with pytest.raises(UserError, match="--split=test"):
        data.open_source(f"idx:{shared_data}/mnist-t10k")
    assert len(data.open_source(f"idx:{shared_data}/mnist-t10k", split="test")) == 10000


def write_idx(path, array):
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    images = np.zeros((10, 28, 28), np.uint8)
    write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), images)
    assert len(data.open_source(f"idx:{tmp_path}")) == 10
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "rb") as f:
        content = f.read()
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(content[:-100])
    with pytest.raises(UserError, match="truncated or corrupt"):
        data.open_source(f"idx:{tmp_path}")


def test_folder_loader_resizes_and_converts(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    (tmp_path / "nested").mkdir()
    Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(tmp_path / "nested" / "b.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    source = data.open_source(f"folder:{tmp_path}", image_shape=(32, 32, 3))
    assert source.images.shape == (2, 32, 32, 3)
    gray = data.open_source(f"folder:{tmp_path}", image_shape=(16, 16, 1))
    assert gray.images.shape == (2, 16, 16, 1)
    batch = next(iter(data.make_dataset(source, 2)))
    assert batch.shape == (2, 32, 32, 3)


def test_folder_bad_inputs(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        data.open_source(f"folder:{tmp_path}/missing")
    with pytest.raises(UserError, match="holds no images"):
        data.open_source(f"folder:{tmp_path}")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    for shape in [(8, 8, 1), None]:  # None: the first image would set the shape, and it is bad
        with pytest.raises(UserError, match="none can be decoded") as error:
            data.open_source(f"folder:{tmp_path}", image_shape=shape)
        assert "\n" not in str(error.value) and "broken.png" in str(error.value)


def test_tfds_loading_through_mock_data():
    with tfds.testing.mock_data(num_examples=40):
        source = data.open_source("tfds:mnist")
        assert source.images.shape == (40, 28, 28, 1) and source.images.dtype == np.uint8
        assert len(source.labels) == 40
        batch = next(iter(data.load("tfds:cifar10", batch_size=8)))
        assert batch.shape == (8, 32, 32, 3)
        assert -1.0 <= float(batch.numpy().min()) and float(batch.numpy().max()) <= 1.0


def test_tfds_offline_error_is_one_line_and_quick(tmp_path):
    with pytest.raises(UserError) as error:
        data.open_source("tfds:mnist", data_dir=str(tmp_path), download=False)
    message = str(error.value)
    assert "\n" not in message and "--dataset=sample" in message and "idx:DIR" in message


def test_unknown_tfds_dataset(tmp_path):
    with pytest.raises(UserError, match="no dataset named"):
        data.open_source("tfds:no_such_dataset_xyz", data_dir=str(tmp_path), download=False)


@pytest.mark.parametrize(
    "spec, kwargs, message",
    [
        ("mnist", {}, "unknown dataset spec"),
        ("idx:", {}, "unknown dataset spec"),
        ("idx:/definitely/missing", {}, "does not exist"),
        ("sample", {"image_shape": (32, 32, 3)}, "expects"),
        ("sample", {"split": "validation"}, "unknown split"),
    ],
)
def test_bad_specs_fail_with_the_fix(spec, kwargs, message):
    with pytest.raises(UserError, match=message):
        data.open_source(spec, **kwargs)


def test_batch_larger_than_dataset():
    source = data.open_source("sample", limit=10)
    with pytest.raises(UserError, match="lower --batch_size"):
        data.make_dataset(source, 64)


def test_tfds_non_square_colour_is_cropped_resized_and_converted():
    # celeb_a: 218x178 colour faces, no labels.
    with tfds.testing.mock_data(num_examples=6, policy=tfds.testing.MockPolicy.USE_CODE):
        centred = data.open_source("tfds:celeb_a", image_shape=(32, 32, 3), crop="center")
        assert centred.images.shape == (6, 32, 32, 3) and centred.labels is None
        squashed = data.open_source("tfds:celeb_a", image_shape=(16, 16, 1))
        assert squashed.images.shape == (6, 16, 16, 1)
        with pytest.raises(UserError, match="has no labels"):
            data.load("tfds:celeb_a", batch_size=2, image_shape=(16, 16, 1), labels=True)
        raw = data.open_source("tfds:celeb_a")
        assert raw.images.shape == (6, 218, 178, 3)
    # The crop is the centre 178x178 square, resized: compare with the same maths done by hand.
    side = 178
    top = (218 - side) // 2
    expected = tf.image.resize(tf.cast(raw.images[:, top:top + side], tf.float32), (32, 32), "bicubic", antialias=True)
    np.testing.assert_array_equal(centred.images, np.clip(np.round(expected.numpy()), 0, 255).astype(np.uint8))


def test_tfds_labels_and_class_names():
    with tfds.testing.mock_data(num_examples=16):
        images, labels = next(iter(data.load("tfds:cifar10", batch_size=8, labels=True)))
        assert images.shape == (8, 32, 32, 3) and labels.dtype.name == "int32"
        # The names come from the dataset's info: all 10 classes, even those missing from 16 mock examples.
        assert data.class_names("tfds:cifar10") == tfds.builder("cifar10").info.features["label"].names
        assert len(data.class_names("tfds:cifar10")) == 10


def test_a_tfds_split_over_the_memory_budget_is_streamed_with_the_same_batches(tmp_path, capsys):
    from keras_gans.data.stream import DiskImages

    with tfds.testing.mock_data(num_examples=24):
        options = dict(image_shape=(16, 16, 3), crop="center")
        in_memory = data.open_source("tfds:cifar10", **options)
        streamed = data.open_source("tfds:cifar10", cache_dir=str(tmp_path), max_memory_gb=1e-6, **options)
        assert isinstance(streamed.images, DiskImages) and not isinstance(in_memory.images, DiskImages)
        assert "streaming them from the on-disk cache" in capsys.readouterr().out
        np.testing.assert_array_equal(np.asarray(streamed.images), in_memory.images)
        np.testing.assert_array_equal(streamed.labels, in_memory.labels)
        for source in (in_memory, streamed):  # the same batches, labels with their images
            batches = [b for b, _ in zip(data.make_dataset(source, 8, seed=3, repeat=True, labels=True), range(4))]
            if source is in_memory:
                expected = batches
        for (a, y), (b, z) in zip(expected, batches):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(y.numpy(), z.numpy())
        # The second run reads the cache: nothing is prepared again.
        capsys.readouterr()
        again = data.open_source("tfds:cifar10", cache_dir=str(tmp_path), max_memory_gb=1e-6, **options)
        assert again.images.path == streamed.images.path and "preparing" not in capsys.readouterr().err
        np.testing.assert_array_equal(again.labels, in_memory.labels)


def test_streaming_tfds_into_an_unwritable_cache_is_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with tfds.testing.mock_data(num_examples=8):
        with pytest.raises(UserError, match="needs a writable cache .*pass --cache_dir") as error:
            data.open_source("tfds:cifar10", image_shape=(16, 16, 3), cache_dir=str(blocker / "cache"),
                             max_memory_gb=1e-6)
    assert "\n" not in str(error.value)
