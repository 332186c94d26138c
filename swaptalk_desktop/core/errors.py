"""Errors a user can act on.

Every exception that reaches a user (CLI message, GUI dialog) is a SwapTalkError whose str() is
one line saying what is wrong and what to do. Anything else is a bug and is logged as such.
"""

from __future__ import annotations


class SwapTalkError(Exception):
    """A problem the user can fix; ``str(err)`` is a one-line actionable message."""

    exit_code = 2


class InputError(SwapTalkError):
    """A source clip, photo, audio file or range that cannot be used as given."""


class ModelError(SwapTalkError):
    """A model file or manifest that is missing, tampered with, or cannot run."""


class OutputError(SwapTalkError):
    """The output cannot be written (permissions, full disk, existing file)."""

    exit_code = 3


class ResourceError(SwapTalkError):
    """The machine ran out of something (GPU memory, RAM) that a smaller setting may fit."""

    exit_code = 4


class Cancelled(SwapTalkError):
    """The user asked to stop; finished work is kept for a later resume."""

    exit_code = 130

    def __init__(self, message: str = "cancelled; finished chunks are kept and a rerun resumes"):
        super().__init__(message)


def internal_error_message(exc: BaseException, doing: str = "", details: object = None) -> str:
    """The one line a user reads for a bug (an exception that is not a SwapTalkError): what
    was being done, the exception's type and text, and where its traceback was written."""
    what = f" while {doing}" if doing else ""
    where = f"; details in {details}" if details else ""
    return " ".join(f"internal error{what} ({type(exc).__name__}: {exc}){where}".split())


class PluginError(SwapTalkError):
    """A plugin, or one of its contributions, is missing, disabled, or failed when used."""
