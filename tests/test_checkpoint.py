"""training.checkpoint: the .npz format and the manager (save, keep the last k, restore, fall back)."""

import logging
import os

import numpy as np
import pytest

from keras_gans.errors import UserError
from keras_gans.training import checkpoint
from conftest import tiny_model


def test_truncated_latest_checkpoint_falls_back_to_previous(tmp_path, caplog):
    model = tiny_model()
    manager = checkpoint.CheckpointManager(str(tmp_path / "checkpoints"), keep=3)
    kernel = model.generator.trainable_variables[0]
    first = np.full(kernel.shape, 0.5, np.float32)
    kernel.assign(first)
    manager.save(model, {"global_step": 10, "epoch": 0, "step_in_epoch": 10, "history": {}})
    kernel.assign(np.full(kernel.shape, 2.0, np.float32))
    latest = manager.save(model, {"global_step": 20, "epoch": 1, "step_in_epoch": 0, "history": {"d_loss": [1.5]}})
    with open(latest, "r+b") as f:
        f.truncate(os.path.getsize(latest) // 2)
    kernel.assign(np.zeros(kernel.shape, np.float32))

    with caplog.at_level(logging.WARNING, logger="keras_gans"):
        meta, path = checkpoint.CheckpointManager(str(tmp_path / "checkpoints")).restore_latest(model)
    assert meta["global_step"] == 10 and path.endswith("ckpt-00000010.npz")
    np.testing.assert_array_equal(kernel.numpy(), first)
    assert any(latest in record.getMessage() and "falling back" in record.getMessage() for record in caplog.records)


def test_no_readable_checkpoint_is_a_clear_error(tmp_path):
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    (directory / "ckpt-00000005.npz").write_bytes(b"not a zip file")
    (directory / "ckpt-00000006.npz.tmp").write_bytes(b"half written")  # a kill during a save
    manager = checkpoint.CheckpointManager(str(directory))
    assert [os.path.basename(p) for p in manager.checkpoints()] == ["ckpt-00000005.npz"]
    with pytest.raises(UserError, match="--restart"):
        manager.restore_latest(tiny_model())


def test_keeps_only_the_last_k(tmp_path):
    model = tiny_model()
    manager = checkpoint.CheckpointManager(str(tmp_path), keep=2)
    for step in (3, 6, 9, 12):
        manager.save(model, {"global_step": step, "epoch": 0, "step_in_epoch": step, "history": {}})
    assert sorted(os.listdir(tmp_path)) == ["ckpt-00000009.npz", "ckpt-00000012.npz"]


def test_checkpoint_of_another_model_is_refused(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path))
    manager.save(tiny_model(), {"global_step": 1, "epoch": 0, "step_in_epoch": 1, "history": {}})
    other = tiny_model(width=16)
    with pytest.raises(UserError, match="shape"):
        manager.restore_latest(other)


def test_unwritable_checkpoint_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write checkpoint"):
        checkpoint.write_checkpoint(str(blocker / "ckpt-00000001.npz"), tiny_model(), {"global_step": 1})


def test_round_trip_restores_every_group_and_the_meta(tmp_path):
    model = tiny_model()
    path = str(tmp_path / "ckpt-00000003.npz")
    checkpoint.write_checkpoint(path, model, {"global_step": 3, "history": {"d_loss": [0.5]}})
    meta, arrays = checkpoint.read_checkpoint(path)
    assert meta == {"global_step": 3, "history": {"d_loss": [0.5]}, "format": checkpoint.FORMAT}
    groups = checkpoint.training_variables(model)
    assert {name.split("/")[0] for name in arrays} == set(groups) == {"model", "d_optimizer", "g_optimizer",
                                                                      "metrics"}
    other = tiny_model()
    kernel = other.generator.trainable_variables[0]
    kernel.assign(kernel.numpy() + 1.0)
    checkpoint.assign_state(other, arrays, path)
    np.testing.assert_array_equal(kernel.numpy(), model.generator.trainable_variables[0].numpy())
