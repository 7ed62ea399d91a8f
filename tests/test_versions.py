"""keras_gans.serving.versions: the next free version, and the newest complete one for readers."""

import os

import pytest

from keras_gans.errors import UserError
from keras_gans.serving.versions import missing_parts, next_version, resolve_version_dir


def _version(base, name, complete=True, pb=True):
    folder = os.path.join(base, str(name))
    os.makedirs(os.path.join(folder, "variables"))
    if pb:
        open(os.path.join(folder, "saved_model.pb"), "wb").close()
    if complete:
        open(os.path.join(folder, "variables", "variables.index"), "wb").close()
    return folder


def test_next_version_is_one_more_than_the_highest_integer(tmp_path):
    assert next_version(str(tmp_path / "none")) == 1
    for name in ("2", "10", "9"):
        os.makedirs(tmp_path / name)
    os.makedirs(tmp_path / ".tmp-11-abc")  # a staging folder, ignored as TF Serving ignores it
    os.makedirs(tmp_path / "latest")
    assert next_version(str(tmp_path)) == 11


def test_newest_complete_version_is_chosen_numerically(tmp_path):
    base = str(tmp_path)
    _version(base, 2)
    newest = _version(base, 10)
    _version(base, 9)
    warnings = []
    assert resolve_version_dir(base, warn=warnings.append) == newest  # 10, not "9" > "10" as strings
    assert warnings == []
    assert resolve_version_dir(newest) == newest  # a version folder is used as it is


def test_incomplete_newer_versions_are_skipped_with_a_warning(tmp_path):
    base = str(tmp_path)
    good = _version(base, 3)
    no_variables = _version(base, 4, complete=False)
    no_graph = _version(base, 5, pb=False)
    warnings = []
    assert resolve_version_dir(base, warn=warnings.append) == good
    assert len(warnings) == 2
    assert no_graph in warnings[0] and "saved_model.pb" in warnings[0]
    assert no_variables in warnings[1] and "variables/" in warnings[1]
    assert missing_parts(good) == [] and missing_parts(no_variables) == ["variables/"]


def test_bad_folders_are_one_line_errors(tmp_path):
    base = str(tmp_path)
    with pytest.raises(UserError, match="is not a folder"):
        resolve_version_dir(os.path.join(base, "missing"))
    with pytest.raises(UserError, match="holds no SavedModel"):
        resolve_version_dir(base)
    broken = _version(base, 1, complete=False)
    with pytest.raises(UserError, match="incomplete SavedModel .no variables/"):
        resolve_version_dir(broken)
    with pytest.raises(UserError, match="no complete SavedModel version"):
        resolve_version_dir(base, warn=lambda line: None)
