"""A class-conditional export: signatures with labels, read back by TensorFlow alone; sample --label."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import keras_gans
from keras_gans.errors import UserError
from keras_gans.images import to_uint8
from keras_gans.latents import latent_vectors
from keras_gans.serving import sample as sample_lib
from keras_gans.serving.export import export_generator
from keras_gans.serving.warmup import WARMUP_FILE
from conftest import subprocess_env
from _serving_cases import assert_uint8_matches, randomise

NAMES = ["shirt", "sneaker", "bag"]

# Runs in a fresh interpreter that never imports keras_gans (nor keras): what a serving client has.
TF_ONLY = r"""
import json, sys
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
s = loaded.signatures
out = {"signatures": sorted(s), "names": [n.decode() for n in s["class_names"]()["class_names"].numpy()]}
g = s["generate"](num_images=tf.constant(6), seed=tf.constant(3, tf.int64), label=tf.constant(-1))
out["random"], out["random_labels"] = g["images"].numpy().tolist(), g["labels"].numpy().tolist()
out["fixed"] = s["generate"](num_images=tf.constant(6), seed=tf.constant(3, tf.int64), label=tf.constant(2))["images"].numpy().tolist()
z = tf.random.stateless_normal([2, 8], seed=tf.constant([5, 0], tf.int64), alg="philox")
out["default"] = s["serving_default"](z=z, label=tf.constant([1, 0]))["images"].numpy().tolist()
walk = s["interpolate"](seed_start=tf.constant(3, tf.int64), seed_end=tf.constant(4, tf.int64), steps=tf.constant(3), label=tf.constant(1))
out["walk_first"] = walk["images"].numpy()[0].tolist()
try:
    s["generate"](num_images=tf.constant(2), seed=tf.constant(0, tf.int64), label=tf.constant(3))
except tf.errors.InvalidArgumentError as error:
    out["error"] = error.message
out["keras_gans_imported"] = any(m.split(".")[0] == "keras_gans" for m in sys.modules)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = keras_gans.DCGAN(image_shape=(28, 28, 1), latent_dim=8, width=4, num_classes=3, seed=0)
    randomise(model.generator, np.random.default_rng(1))
    path = export_generator(model, tmp_path_factory.mktemp("cexport"), allow_untrained=True, class_names=NAMES)
    run = subprocess.run([sys.executable, "-c", TF_ONLY, path], capture_output=True, text=True, timeout=300,
                         env=subprocess_env())
    assert run.returncode == 0, run.stderr[-2000:]
    return model, path, json.loads(run.stdout.strip().splitlines()[-1])


def test_tensorflow_alone_gets_the_images_of_model_generate(exported):
    model, _, out = exported
    assert not out["keras_gans_imported"]
    assert out["signatures"] == ["class_names", "generate", "generate_png", "interpolate", "serving_default"]
    assert out["names"] == NAMES
    random_images = model.generate(6, seed=3)  # labels=None: the seed's classes, as label=-1
    assert_uint8_matches(np.array(out["random"], np.uint8), random_images)
    np.testing.assert_array_equal(model.generate(6, seed=3, labels=out["random_labels"]), random_images)
    assert_uint8_matches(np.array(out["fixed"], np.uint8), model.generate(6, seed=3, labels=[2] * 6))
    z = latent_vectors(2, 8, 5)
    reference = model.generator([z, tf.constant([1, 0])], training=False).numpy()
    np.testing.assert_allclose(np.array(out["default"], np.float32), reference, atol=1e-5)
    assert_uint8_matches(np.array(out["walk_first"], np.uint8)[None], model.generate(1, seed=3, labels=[1]))


def test_out_of_range_label_fails_in_one_line(exported):
    message = exported[2]["error"]
    assert "label must be -1 (random classes) or a class id in [0, 3): this model has 3 classes" in message


def test_warmup_has_a_record_per_signature_and_class_names_asset(exported):
    _, path, _ = exported
    records = list(tf.data.TFRecordDataset(os.path.join(path, WARMUP_FILE)).as_numpy_iterator())
    assert len(records) == 5
    for name in (b"serving_default", b"generate", b"generate_png", b"interpolate", b"class_names"):
        assert any(name in record for record in records)
    with open(os.path.join(path, "assets.extra", "class_names.txt")) as handle:
        assert handle.read().split() == NAMES


def test_sample_label_by_name_or_id(exported):
    model, path, _ = exported
    by_name, _ = sample_lib.sample(path, num=3, seed=2, label="bag")
    by_id, _ = sample_lib.sample(path, num=3, seed=2, label="2")
    np.testing.assert_array_equal(by_name, by_id)
    assert_uint8_matches(by_name, model.generate(3, seed=2, labels=2))
    drawn, _ = sample_lib.sample(path, num=3, seed=2, signature="serving_default")
    np.testing.assert_allclose(drawn, model.generate(3, seed=2), atol=1e-5)
    with pytest.raises(UserError, match="--label='hat' is not a class of this export"):
        sample_lib.sample(path, num=3, seed=2, label="hat")
    with pytest.raises(UserError, match="needs --label"):
        sample_lib.sample(path, num=3, seed=2, signature="interpolate", seed_end=3)


def test_export_refuses_wrong_number_of_class_names(tmp_path):
    model = keras_gans.GAN(image_shape=(28, 28, 1), latent_dim=8, width=4, num_classes=3)
    with pytest.raises(UserError, match="class_names has 2 names but the model has num_classes=3"):
        export_generator(model, tmp_path, allow_untrained=True, class_names=["a", "b"])
