"""keras_gans.callbacks: the checkpointer records the history LossHistory keeps (one record, not two),
refuses a resume with another epoch length; sample grids and history files."""

import json
import os

import keras
import numpy as np
import pytest

from keras_gans import data
from keras_gans.callbacks import LossHistory, SampleGrids
from keras_gans.callbacks.checkpointer import Checkpointer
from keras_gans.errors import UserError
from keras_gans.training.checkpoint import CheckpointManager, read_checkpoint
from keras_gans.training.run_dir import RunDir
from conftest import random_images, tiny_model


def test_resume_with_another_epoch_length_is_refused(tmp_path):
    manager = CheckpointManager(str(tmp_path))
    resume = {"global_step": 12, "epoch": 1, "step_in_epoch": 2, "steps_per_epoch": 10, "history": {}}
    Checkpointer(manager, steps_per_epoch=10, resume=resume)  # the same length: fine
    with pytest.raises(UserError, match="10 steps per epoch, this run has 9 .*--restart"):
        Checkpointer(manager, steps_per_epoch=9, resume=resume)


class StopAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.step:
            self.model.stop_training = True


def test_checkpoints_record_the_completed_epochs_of_the_loss_history(tmp_path):
    model = tiny_model()
    source = data.ImageSource("t", data.to_uint8(random_images(64)))
    dataset = data.make_dataset(source, 8, seed=0, repeat=True)
    history = LossHistory(RunDir(tmp_path), history={"d_loss": [9.0]})  # a resumed run's earlier epoch
    manager = CheckpointManager(str(tmp_path / "checkpoints"), keep=10)
    checkpointer = Checkpointer(manager, steps_per_epoch=4, every=2, history=history)
    model.fit(dataset, epochs=2, steps_per_epoch=4, callbacks=[history, checkpointer], verbose=0)

    saved = {int(os.path.basename(p)[5:13]): read_checkpoint(p)[0]["history"] for p in manager.checkpoints()}
    assert sorted(saved) == [2, 4, 6, 8]
    on_disk = json.loads((tmp_path / "history.json").read_text())
    assert on_disk == history.history and len(on_disk["d_loss"]) == 3 and on_disk["d_loss"][0] == 9.0
    # Inside an epoch a checkpoint holds the epochs completed so far; at its end, that epoch too.
    assert saved[2] == {"d_loss": [9.0]}
    assert saved[4] == saved[6] == {k: v[:-1] for k, v in on_disk.items() if v[:-1]}
    assert len(saved[4]["d_loss"]) == 2 and len(saved[4]["g_loss"]) == 1
    assert saved[8] == on_disk


def test_an_early_stop_checkpoint_leaves_the_unfinished_epoch_out(tmp_path):
    model = tiny_model()
    source = data.ImageSource("t", data.to_uint8(random_images(64)))
    history = LossHistory(str(tmp_path))
    manager = CheckpointManager(str(tmp_path / "checkpoints"))
    checkpointer = Checkpointer(manager, steps_per_epoch=4, history=history)
    model.fit(data.make_dataset(source, 8, seed=0, repeat=True), epochs=1, steps_per_epoch=4, verbose=0,
              callbacks=[StopAt(3), history, checkpointer])
    meta = read_checkpoint(checkpointer.last_path)[0]
    assert (meta["global_step"], meta["epoch"], meta["history"]) == (3, 0, {})


def test_sample_grids_rewrite_the_gif_at_powers_of_two_and_at_the_end(tmp_path, monkeypatch):
    # Each rewrite re-encodes all frames so far: every epoch would cost O(epochs^2).
    from keras_gans.callbacks import samples as samples_module

    written = []
    monkeypatch.setattr(samples_module.image_utils, "save_gif", lambda frames, path: written.append(len(frames)))
    model = tiny_model()
    source = data.ImageSource("t", data.to_uint8(random_images(32)))
    grids = SampleGrids(str(tmp_path / "samples"), num_images=4, seed=1)
    model.fit(data.make_dataset(source, 8, seed=0, repeat=True), epochs=6, steps_per_epoch=1, verbose=0,
              callbacks=[grids])
    assert written == [1, 2, 4, 6]  # after epochs 1, 2 and 4, then all 6 frames at the end


def test_sample_grids_write_each_epoch_and_the_gif(tmp_path):
    model = tiny_model()
    source = data.ImageSource("t", data.to_uint8(random_images(32)))
    grids = SampleGrids(str(tmp_path / "samples"), num_images=4, seed=1)
    model.fit(data.make_dataset(source, 8, seed=0, repeat=True), epochs=2, steps_per_epoch=1, verbose=0,
              callbacks=[grids])
    assert sorted(os.listdir(tmp_path / "samples")) == [
        "fixed_epoch_001.png", "fixed_epoch_002.png", "random_epoch_001.png", "random_epoch_002.png",
        "training.gif",
    ]
    assert np.isfinite(model.generate(2, seed=1)).all()


def test_a_gif_that_cannot_be_written_does_not_stop_training(tmp_path, monkeypatch, capsys):
    from keras_gans.callbacks import samples as samples_module

    def fail(frames, path):
        raise OSError("disk full")

    monkeypatch.setattr(samples_module.image_utils, "save_gif", fail)
    model = tiny_model()
    source = data.ImageSource("t", data.to_uint8(random_images(32)))
    grids = SampleGrids(str(tmp_path / "samples"), num_images=4, seed=1)
    history = model.fit(data.make_dataset(source, 8, seed=0, repeat=True), epochs=2, steps_per_epoch=1, verbose=0,
                        callbacks=[grids])
    assert len(history.history["d_loss"]) == 2
    assert os.path.exists(tmp_path / "samples" / "fixed_epoch_002.png")
    assert capsys.readouterr().out.count("no training.gif for this run: it could not be written (OSError: disk full)") == 1


def test_no_gif_of_huge_grids(tmp_path, monkeypatch, capsys):
    # Large images make grids Pillow refuses to read back into a GIF (its decompression-bomb limit).
    from keras_gans.callbacks import samples as samples_module

    monkeypatch.setattr(samples_module, "MAX_GIF_SIDE", 8)  # the tiny model's grids are wider than this
    model = tiny_model()
    source = data.ImageSource("t", data.to_uint8(random_images(32)))
    grids = SampleGrids(str(tmp_path / "samples"), num_images=4, seed=1)
    model.fit(data.make_dataset(source, 8, seed=0, repeat=True), epochs=2, steps_per_epoch=1, verbose=0,
              callbacks=[grids])
    assert not os.path.exists(tmp_path / "samples" / "training.gif")
    assert os.path.exists(tmp_path / "samples" / "fixed_epoch_002.png")
    assert "over 8" in capsys.readouterr().out
