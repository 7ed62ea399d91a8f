"""One run per --output_dir: an exclusive, OS-level lock held for a run's whole life.

Two processes training into one folder would interleave their checkpoints,
histories and exports (and the second would later resume the other's weights).
`RunLock` takes `fcntl.flock` on `OUTPUT_DIR/.lock`. The kernel releases a
flock when its holder dies, however it dies (kill -9, OOM, a crashed node's
NFS client aside), so a lock left behind by a killed run never blocks the
next one and there is no stale-lock clean-up to get wrong. The file itself
holds the holder's PID, host and start time, only to make the refusal useful.
"""

import datetime
import fcntl
import json
import os
import socket

from keras_gans.errors import UserError

LOCK_NAME = ".lock"


class RunInProgressError(UserError):
    """Another live process holds the folder's lock."""


class RunLock:
    """An exclusive lock on a run folder; a context manager.

    Args:
        output_dir: the run folder (created if missing).

    Raises (on `acquire`):
        RunInProgressError: another process holds it; the message names the holder.
    """

    def __init__(self, output_dir):
        self.output_dir = output_dir
        self.path = os.path.join(output_dir, LOCK_NAME)
        self._fd = None

    def acquire(self):
        os.makedirs(self.output_dir, exist_ok=True)
        # O_RDWR without O_TRUNC: a refused process must not wipe the holder's details.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunInProgressError(_in_use_message(self.output_dir, holder)) from None
        except OSError:
            os.close(fd)
            raise
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        self._fd = fd
        return self

    def release(self):
        if self._fd is None:
            return
        # The file stays: removing it would race with a process that has just
        # opened it and is about to lock it (it would then lock an unlinked file).
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self):
        return self._fd is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


def refuse_if_in_use(output_dir):
    """RunInProgressError if a live process holds `output_dir`'s lock; touches nothing.

    For the checks before the lock is taken: a second run into a folder that a
    live run is training in must hear that, not that its settings differ (the
    first run may already have checkpointed) with advice to pass --restart.
    """
    path = os.path.join(output_dir, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # no lock file (a new folder), or unreadable: the real acquire decides
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except BlockingIOError:
        raise RunInProgressError(_in_use_message(output_dir, _read_holder(fd))) from None
    except OSError:
        pass
    finally:
        os.close(fd)


def _in_use_message(output_dir, holder):
    return (f"--output_dir={output_dir} is in use by another run ({holder}): wait for it to finish, "
            "stop it, or choose another --output_dir")


def _read_holder(fd):
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "holder unknown"
    return f"PID {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')}"
