"""Train a GAN: python train.py --flagfile=configs/quickstart.flags [--flag=value ...]

Flags left unset take the reference article's value for the chosen model.
"""

import dataclasses
import errno
import os
import sys
import typing

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the log

from absl import app, flags, logging  # noqa: E402

from keras_gans.config import TrainConfig  # noqa: E402  (imports TensorFlow, so after the log level)

FLAGS = flags.FLAGS


def _define_flags():
    """One absl flag per TrainConfig field (keras_gans.config): same name, default, help and choices.

    Defined here, not in keras_gans.config, because absl shows a module's own
    flags in `--help`: they must belong to train.py.
    """
    define = {int: flags.DEFINE_integer, float: flags.DEFINE_float, bool: flags.DEFINE_boolean,
              str: flags.DEFINE_string}
    for field in dataclasses.fields(TrainConfig):
        kind = field.type
        if typing.get_origin(kind) is typing.Union:  # Optional[X]: X, with None as "unset"
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        help_text, choices = field.metadata["help"], field.metadata["choices"]
        if choices is not None:
            flags.DEFINE_enum(field.name, field.default, list(choices), help_text)
        else:
            define[kind](field.name, field.default, help_text)


_define_flags()


def config_from_flags():
    """The TrainConfig of the parsed flags."""
    return TrainConfig(**{field.name: FLAGS[field.name].value for field in dataclasses.fields(TrainConfig)})


def flags_text():
    """train.py's own flags, one `--name=value` per line, for the run's flags.txt.

    Only the TrainConfig flags: `FLAGS.flags_into_string()` would also write the
    two dozen flags that absl and TensorFlow define (`--test_tmpdir`,
    `--hbm_oom_exit`...), burying the run's settings. `--flagfile=RUN/flags.txt`
    reruns the run.
    """
    lines = (FLAGS[field.name].serialize() for field in dataclasses.fields(TrainConfig))
    return "".join(f"{line}\n" for line in lines if line)


def config_from_flagfile(path):
    """The TrainConfig `python train.py --flagfile=PATH` trains with (for the benchmarks and tests)."""
    FLAGS.unparse_flags()
    try:
        FLAGS(["train.py", f"--flagfile={path}"])
        return config_from_flags()
    finally:
        FLAGS.unparse_flags()


def _is_full_or_unwritable(error):
    """A disk that filled up or a folder that became unwritable (other errors keep their traceback)."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
    name, message = type(error).__name__, str(error).lower()
    # ResourceExhaustedError is also TensorFlow's out-of-memory error: only a full disk counts here.
    return (name == "ResourceExhaustedError" and "no space" in message) or name == "PermissionDeniedError"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}: flags are written --name=value")
    from keras_gans.errors import UserError
    from keras_gans.training.preemption import TrainingInterrupted
    from keras_gans.training.run import run

    if not FLAGS["verbosity"].present:
        # absl's default level (INFO) would end every run with a dozen lines of TensorFlow's export
        # chatter ("Assets written to ...", renamed resource inputs); --verbosity=0 brings them back.
        logging.set_verbosity(logging.WARNING)
    try:
        result = run(config_from_flags(), flags_text=flags_text())
    except TrainingInterrupted as stopped:
        # SIGTERM (pre-emption) or Ctrl-C: the step reached is checkpointed.
        print(stopped, file=sys.stderr)
        return stopped.exit_code
    except KeyboardInterrupt:
        # Ctrl-C outside training (start-up, before the signal handlers are in place).
        print("stopped by SIGINT before training started: nothing to save", file=sys.stderr)
        return 130
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        # A disk that filled up or a folder that became unwritable mid-run (an
        # OSError, or TensorFlow's own error class while exporting): one line.
        from keras_gans.fileio import describe_write_error

        if _is_full_or_unwritable(error):
            print(f"error: {describe_write_error(error, getattr(error, 'filename', None) or FLAGS.output_dir)} "
                  "(the same command then resumes from the last checkpoint)", file=sys.stderr)
            return 2
        from keras_gans.distribute import describe_worker_failure

        # A multi-worker cluster that lost a worker: one line, not a traceback.
        message = describe_worker_failure(error)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 3
    print(f"done: samples, history, model.keras and export in {result.output_dir}")
    return 0


if __name__ == "__main__":
    app.run(main)
