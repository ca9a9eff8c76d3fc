"""The one exception type for mistakes the user can fix.

`run.py` prints a `UserError` as one line (exit status 2) and lets everything
else keep its traceback: a bad file name is the user's to fix, an AttributeError
is ours. Raise it with a message that names the bad input and what to do.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input (a missing or malformed file, an unknown config key, a wrong type) or a
    missing optional dependency, with a message that says what to do about it."""


class MissingDependencyError(UserError, ImportError):
    """An optional extra (TensorRT, pycuda, a GPU, Qt's platform libraries) is not there."""


class BadInputError(UserError, ValueError):
    """A value or a file's content that the user gave is wrong (a ValueError too, for callers that catch that)."""


class InputNotFoundError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist (a FileNotFoundError too)."""


class OutputError(UserError, OSError):
    """An output cannot be written: a folder that does not exist or is read-only, a full disk."""
