"""SignalStop: the first signal is recorded (training stops after the step), a second exits at once."""

import io
import os
import signal
import subprocess
import sys
import textwrap

from keras_gans.training.preemption import SignalStop, TrainingInterrupted


def test_first_signal_is_recorded_and_handlers_restored():
    before = signal.getsignal(signal.SIGTERM)
    stream = io.StringIO()
    with SignalStop(stream=stream) as stop:
        assert stop.requested is None
        os.kill(os.getpid(), signal.SIGTERM)  # delivered to the main thread before the next bytecode
        assert stop.requested == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
    assert "SIGTERM received: finishing the current step" in stream.getvalue()


def test_second_signal_exits_at_once_with_128_plus_signal():
    script = textwrap.dedent("""
        import os, signal, time
        from keras_gans.training.preemption import SignalStop
        with SignalStop():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
        print("not reached")
    """)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 128 + signal.SIGINT
    assert "not reached" not in result.stdout
    assert "SIGINT again: exiting now" in result.stderr
    assert "Traceback" not in result.stderr


def test_interrupted_message_and_exit_code():
    stopped = TrainingInterrupted(signal.SIGTERM, global_step=450, epoch=1, step_in_epoch=450, checkpoint="c.npz")
    assert stopped.exit_code == 143
    assert str(stopped) == (
        "stopped by SIGTERM at step 450 (epoch 1, step 450): checkpoint written; run the same command to resume"
    )
    assert "before training started" in str(TrainingInterrupted(signal.SIGINT))
