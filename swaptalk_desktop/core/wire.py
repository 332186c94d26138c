"""The JSON-lines wire protocol: one JSON object per line, spoken by ``swaptalk ...
--json-progress`` (cli/display.py), the processing host and its client (app/job_host.py,
app/job_client.py) and the adaptation job that reads the CLI (engine/adapt_job.py).

Events (``"event"``), each stamped with ``"time"`` (Unix seconds) by :class:`LineWriter`:

  progress   stage, done, total, fps, eta_s, message[, fraction, job_eta_s]  (ProgressEvent)
  info       message
  warning    message
  done       the command's result fields (the host: ``"result"``)
  error      message, exit_code
  cancelled  message, exit_code

The host's requests (``"op"``): ``run`` (id, payload), ``cancel`` (id), ``quit``. Messages
for one host job carry its ``"id"``. Lines that are not a JSON object are ignored.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, TextIO

from .progress import ProgressEvent

PROGRESS, INFO, WARNING, DONE, ERROR, CANCELLED = (
    "progress", "info", "warning", "done", "error", "cancelled")


def encode(message: dict[str, Any]) -> str:
    """One protocol line, newline included."""
    return json.dumps(message) + "\n"


def decode(line: str) -> dict[str, Any] | None:
    """The message on ``line``; None for anything that is not a JSON object (a library's
    stray print, a cut-off line)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


class LineWriter:
    """Writes stamped messages to a stream, one whole line at a time from any thread."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        # re-entrant: the CLI's SIGINT handler writes a line from the main thread, and the
        # signal can land while that thread is inside emit (a flush blocked on a full pipe);
        # a plain lock deadlocked the process there
        self._lock = threading.RLock()

    def emit(self, message: dict[str, Any]) -> None:
        message.setdefault("time", round(time.time(), 3))
        with self._lock:
            self.stream.write(encode(message))
            self.stream.flush()


def progress_message(ev: ProgressEvent, **extra: Any) -> dict[str, Any]:
    return {**ev.as_dict(), **extra}


def progress_event(message: dict[str, Any]) -> ProgressEvent:
    """A ``progress`` message back as the event it was made from."""
    return ProgressEvent(str(message.get("stage", "")), int(message.get("done", 0)),
                         int(message.get("total", 0)), float(message.get("fps") or 0.0),
                         message.get("eta_s"), str(message.get("message", "")),
                         fraction=message.get("fraction"), job_eta_s=message.get("job_eta_s"))


def error_message(text: str, exit_code: int = 2, kind: str = ERROR, **extra: Any) -> dict:
    """An ``error`` (or ``cancelled``) message."""
    return {"event": kind, **extra, "message": text, "exit_code": exit_code}


def run_request(job_id: str, payload: dict) -> dict:
    return {"op": "run", "id": job_id, "payload": payload}


def cancel_request(job_id: str) -> dict:
    return {"op": "cancel", "id": job_id}
