"""Old module paths kept for one release after a move (issue 13): one mechanism for all of them."""

import sys


def redirect(old_name, new_module):
    """Makes the module `old_name` the moved module itself, or runs its `main` under `python -m OLD`.

    An alias, not a copy of names: every name, and any monkeypatch made
    through the old path, reaches the code that runs.
    """
    if old_name == "__main__":
        sys.exit(new_module.main())
    sys.modules[old_name] = new_module
