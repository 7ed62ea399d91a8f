"""RunDir: the names of a run's artefacts, preparing the folder (and --restart), atomic writes."""

import json
import os

import pytest

from keras_gans.errors import UserError
from keras_gans.training.run_dir import RunDir


def test_paths_name_every_artefact(tmp_path):
    run_dir = RunDir(tmp_path)
    expected = {
        "samples": "samples", "history": "history.json", "loss_plot": "loss.png", "flags": "flags.txt",
        "config": "config.json", "versions": "versions.json", "model": "model.keras",
        "best_generator": "best_generator.keras", "export": "export", "checkpoints": "checkpoints",
        "tensorboard": "tensorboard",
    }
    for attribute, name in expected.items():
        assert getattr(run_dir, attribute) == os.path.join(str(tmp_path), name)


def test_restart_removes_the_previous_runs_outputs_best_generator_included(tmp_path, capsys):
    for name in ("checkpoints", "tensorboard", "samples", "export"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_text("x")
    for name in ("history.json", "loss.png", "best_generator.keras", "model.keras", "notes.txt"):
        (tmp_path / name).write_text("x")
    RunDir(tmp_path).prepare(restart=True)
    # model.keras and export/ are the end products (export/ keeps its versions); notes are the user's.
    assert sorted(os.listdir(tmp_path)) == ["export", "model.keras", "notes.txt"]
    out = capsys.readouterr().out
    assert "restart: removed" in out and "best_generator.keras" in out


def test_prepare_without_restart_keeps_everything(tmp_path, capsys):
    (tmp_path / "history.json").write_text("{}")
    RunDir(tmp_path / "new").prepare()
    RunDir(tmp_path).prepare()
    assert (tmp_path / "new").is_dir() and (tmp_path / "history.json").exists()
    assert capsys.readouterr().out == ""


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write to --output_dir=.*choose a writable folder"):
        RunDir(blocker / "run").prepare()


def test_atomic_writes_replace_whole_files_and_leave_no_temporary(tmp_path):
    run_dir = RunDir(tmp_path / "run")
    run_dir.write_json_atomic(run_dir.config, {"a": 1}, indent=1)
    run_dir.write_text_atomic(run_dir.flags, "--x=1\n")
    assert run_dir.read_json(run_dir.config) == {"a": 1}
    assert (tmp_path / "run" / "flags.txt").read_text() == "--x=1\n"
    with pytest.raises(TypeError):  # a value JSON cannot hold: the old file stays whole
        run_dir.write_json_atomic(run_dir.config, {"a": object()})
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {"a": 1}
    assert sorted(os.listdir(tmp_path / "run")) == ["config.json", "flags.txt"]


def test_a_failed_write_removes_its_temporary(tmp_path, monkeypatch):
    run_dir = RunDir(tmp_path)
    run_dir.write_text_atomic(run_dir.flags, "old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        run_dir.write_text_atomic(run_dir.flags, "new")
    assert os.listdir(tmp_path) == ["flags.txt"] and (tmp_path / "flags.txt").read_text() == "old"
