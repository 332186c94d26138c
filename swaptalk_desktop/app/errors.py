"""One-line messages for the user; tracebacks go to the log file, never into a dialog."""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path

import platformdirs

from ..core.errors import SwapTalkError, internal_error_message

log = logging.getLogger("swaptalk_desktop.ui")
_MAX_LINE = 300


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("swaptalk-desktop"))


def log_file() -> Path:
    return log_dir() / "swaptalk-desktop.log"


def setup_logging() -> Path | None:
    """Send the package's log records (with tracebacks) to a rotating file in the log dir."""
    root = logging.getLogger("swaptalk_desktop")
    root.setLevel(logging.INFO)
    if any(getattr(h, "_swaptalk_ui", False) for h in root.handlers):
        return log_file()
    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_file(), maxBytes=2_000_000,
                                                       backupCount=2, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._swaptalk_ui = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return log_file()


def one_line(text: str, limit: int = _MAX_LINE) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def user_message(exc: BaseException, doing: str = "") -> str:
    """What the user reads: the error's own line for SwapTalkErrors; otherwise a short note
    that names the exception, with the traceback written to the log file."""
    if isinstance(exc, SwapTalkError):
        return one_line(str(exc))
    log.error("internal error%s:\n%s", f" while {doing}" if doing else "",
              "".join(traceback.format_exception(exc)))
    where = log_file() if log_file().parent.is_dir() else None
    return one_line(internal_error_message(exc, doing, where))
