"""keras_gans.fileio: the cause of a failed write, output checks before work, damaged .keras files."""

import errno
import os
import zipfile

import pytest
import tensorflow as tf

from keras_gans.errors import UserError
from keras_gans.fileio import check_keras_file, check_writable, describe_write_error


@pytest.mark.parametrize("error, cause", [
    (OSError(errno.ENOSPC, "No space left on device"), "disk is full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "disk is full"),
    (tf.errors.ResourceExhaustedError(None, None, "x.tempstate; No space left on device"), "disk is full"),
    (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    (OSError(errno.EROFS, "Read-only file system"), "permission denied"),
    (tf.errors.PermissionDeniedError(None, None, "x; Permission denied"), "permission denied"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory"), "folder does not exist"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "is a file, not a folder"),
])
def test_each_cause_is_named_and_only_that_one(error, cause):
    message = describe_write_error(error, "/runs/x/model.keras")
    assert cause in message and "/runs/x/model.keras" in message and "\n" not in message
    others = {"disk is full", "permission denied", "folder does not exist", "is a file, not a folder"} - {cause}
    assert not any(other in message for other in others), message


def test_real_errors_from_the_file_system(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for path, cause in ((a_file / "out.json", "is a file, not a folder"),
                        (tmp_path / "missing" / "out.json", "folder does not exist")):
        with pytest.raises(OSError) as raised:
            open(path, "w")
        assert cause in describe_write_error(raised.value, str(path))


def test_check_writable(tmp_path):
    check_writable(tmp_path / "report.json", "--output")
    assert os.listdir(tmp_path) == []  # the scratch file is gone
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UserError, match=r"--output=.*is a file, not a folder"):
        check_writable(a_file / "report.json", "--output")
    with pytest.raises(UserError, match="does not exist"):
        check_writable(tmp_path / "missing" / "report.json", "--output")
    with pytest.raises(UserError, match="is a folder"):
        check_writable(tmp_path, "--output")


def test_check_writable_where_even_root_may_not_write():
    # os.access says yes to root almost everywhere; sysfs refuses a new file to root too (EACCES).
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no sysfs on this machine")
    with pytest.raises(UserError, match="permission denied"):
        check_writable("/sys/kernel/report.json", "--output")


def test_truncated_keras_file_is_named_corrupt(tmp_path):
    good = tmp_path / "model.keras"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("config.json", "{}" * 1000)
    check_keras_file(good, "--model")
    truncated = tmp_path / "cut.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(UserError, match="corrupt or truncated model file"):
        check_keras_file(truncated, "--model")
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="corrupt or truncated model file"):
        check_keras_file(empty, "--model")
    with pytest.raises(UserError, match="does not exist"):
        check_keras_file(tmp_path / "none.keras", "--model")
    with pytest.raises(UserError, match="not a .keras file"):
        check_keras_file(tmp_path / "model.h5", "--model")
