"""Errors that mean 'the user asked for something that cannot work', with the fix in the message."""


class UserError(ValueError):
    """A bad flag, path or input. `train.py` prints it as one line, without a traceback."""
