"""Stop cleanly on SIGTERM and Ctrl-C: finish the step, checkpoint, say so, exit 128 + signal.

SIGTERM is what Kubernetes, Slurm and cloud pre-emption send before they kill
a job; Ctrl-C is SIGINT. Python's defaults die at once (SIGTERM) or raise
`KeyboardInterrupt` wherever the interpreter happens to be (SIGINT), losing
every step since the last checkpoint. While a `SignalStop` is active, the
first such signal only records itself: the checkpointer sees it at the end of
the current train step, writes a checkpoint for exactly that step and raises
`TrainingInterrupted` out of `fit`; the run then writes its history and logs
and `train.py` exits with 128 + the signal number, as a shell reports a
process killed by that signal. A second signal means "now": the process
exits at once. That cannot corrupt the last checkpoint, which is written to
a temporary name and renamed into place (keras_gans.checkpoints).
"""

import os
import signal
import sys
import threading

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingInterrupted(Exception):
    """Training stopped on a signal after checkpointing the step it had reached.

    Attributes:
        signum: the signal's number.
        global_step, epoch, step_in_epoch: where training stopped (epoch counted from 1).
        checkpoint: path of the checkpoint written, or None.
    """

    def __init__(self, signum, global_step=None, epoch=None, step_in_epoch=None, checkpoint=None):
        self.signum = int(signum)
        self.global_step = global_step
        self.epoch = epoch
        self.step_in_epoch = step_in_epoch
        self.checkpoint = checkpoint
        super().__init__(self.describe())

    @property
    def signal_name(self):
        return signal_name(self.signum)

    @property
    def exit_code(self):
        return 128 + self.signum

    def describe(self):
        if self.global_step is None:
            return f"stopped by {self.signal_name} before training started: nothing to save; run the same command to start"
        written = "checkpoint written" if self.checkpoint else "no checkpoint written (this worker does not write)"
        return (
            f"stopped by {self.signal_name} at step {self.global_step} (epoch {self.epoch}, step {self.step_in_epoch}): "
            f"{written}; run the same command to resume"
        )


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class SignalStop:
    """While active (a context manager), SIGTERM and SIGINT request a clean stop instead of killing.

    `requested` is the first signal's number, or None. Outside the main thread
    (where Python cannot install handlers) it does nothing and stays None.
    """

    def __init__(self, signals=HANDLED_SIGNALS, stream=None):
        self.signals = tuple(signals)
        self.requested = None
        self._previous = {}
        self._stream = stream

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum, frame):
        stream = self._stream or sys.stderr
        if self.requested is not None:
            # The user insists: leave now. The last checkpoint on disk is whole
            # (written under a temporary name, then renamed).
            stream.write(f"\n{signal_name(signum)} again: exiting now, without a new checkpoint\n")
            stream.flush()
            os._exit(128 + signum)
        self.requested = signum
        stream.write(
            f"\n{signal_name(signum)} received: finishing the current step and writing a checkpoint "
            "(send it again to exit at once)\n"
        )
        stream.flush()
