"""--conditional runs: labels from the data, a one-line error without them; class-per-row grids; the export."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_gans
from keras_gans.callbacks.class_grid import grid_picture
from keras_gans.errors import UserError
from keras_gans.images import make_grid
from keras_gans.training import run as run_lib
from conftest import tiny_config


def test_conditional_on_a_dataset_without_labels_fails_in_one_line(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8)).save(folder / f"{i}.png")
    config = tiny_config(tmp_path / "run", dataset=f"folder:{folder}", image_size=28, channels=1, conditional=True)
    with pytest.raises(UserError, match="--conditional needs labels: dataset .* has no labels") as error:
        run_lib.load_data(config)
    assert "\n" not in str(error.value)


def test_grid_has_one_labelled_row_per_class_and_is_unchanged_without_classes():
    plain = keras_gans.GAN(image_shape=(28, 28, 1), latent_dim=8, width=4, seed=0)
    np.testing.assert_array_equal(grid_picture(plain, 7, seed=1), make_grid(plain.generate(7, seed=1)))
    model = keras_gans.GAN(image_shape=(28, 28, 1), latent_dim=8, width=4, num_classes=3, seed=0)
    picture = grid_picture(model, 7, seed=1, class_names=["tee", "bag", "boot"])
    # 3 rows of ceil(7 / 3) = 3 images of 28 + 2 px gaps; a white margin on the left holds the names.
    assert picture.shape[0] == 3 * 30 + 2
    margin = picture.shape[1] - (3 * 30 + 2)
    assert margin > 10 and picture.dtype == np.uint8
    assert (picture[:, :margin] < 128).any()  # the names are drawn
    # Row c is class c, column j latent j of the seed.
    row = make_grid(model.generate(3, seed=1, labels=[2, 2, 2]), rows=1)  # [2 + 28 + 2, 3 * 30 + 2]
    np.testing.assert_array_equal(picture[62:90, margin:, 0], row[2:30, :, 0])


@pytest.mark.slow
def test_conditional_run_trains_on_labels_and_exports_the_class_names(tmp_path):
    config = tiny_config(tmp_path / "run", conditional=True, export=True, max_images=64, batch_size=32,
                         tensorboard=False, grid_images=10)
    result = run_lib.run(config)
    assert result.model.num_classes == 10
    assert json.loads((tmp_path / "run" / "config.json").read_text())["conditional"] is True
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "fixed_epoch_001.png"))
    assert grid.shape[0] == 2 * (10 * 30 + 2)  # ten rows, scale 2
    loaded = tf.saved_model.load(result.export_path)
    assert len(loaded.signatures["class_names"]()["class_names"]) == 10
    assert os.path.exists(os.path.join(result.export_path, "assets.extra", "class_names.txt"))


# What a conditional preset changes besides --conditional, each measured (BENCHMARKS.md, "Conditional
# generation"): cwgan_gp's 4x faster generator lifts class accuracy 0.871 -> 0.922.
# cdcgan changes nothing else; both train for 10 minutes, as dcgan.flags and wgan_gp.flags do (BENCHMARKS.md,
# "The conditional DCGAN preset with a 10-minute budget").
MEASURED_CHANGES = {"cdcgan": {}, "cwgan_gp": {"g_lr": 8e-4}}


@pytest.mark.parametrize("conditional_name, base", [("cdcgan", "dcgan"), ("cwgan_gp", "wgan_gp")])
def test_conditional_presets_are_their_unconditional_preset_plus_conditional(conditional_name, base):
    import dataclasses
    import sys

    from conftest import REPO_ROOT

    sys.path.insert(0, REPO_ROOT)
    import train as train_module

    def preset(name):
        return dataclasses.asdict(train_module.config_from_flagfile(os.path.join(REPO_ROOT, "configs", "cpu", f"{name}.flags")))

    with_labels, without = preset(conditional_name), preset(base)
    assert with_labels.pop("conditional") is True and without.pop("conditional") is False
    assert with_labels.pop("output_dir") != without.pop("output_dir")
    for name, value in MEASURED_CHANGES[conditional_name].items():
        assert with_labels.pop(name) == value and without.pop(name) != value
    assert with_labels == without
