"""The processing host: a child process that runs processing and export jobs for the app.

Running the engine in its own process keeps the GUI's event loop free of the interpreter lock
(face tracking and model set-up hold it for up to ~150 ms at a time) and lets the app survive a
crash of the engine (a GPU driver fault, memory exhaustion): the host is restarted for the next
job and finished chunks stay in the cache. Qt-free; both pipes speak the wire protocol of
core/wire.py:

  app -> host   {"op": "run", "id": ID, "payload": {...}}   {"op": "cancel", "id": ID}
  host -> app   {"event": "ready"}  then per job, the CLI's --json-progress events with "id":
                progress (stage, done, total, fps, eta_s), warning, done (with "result"),
                error (message, exit_code), cancelled

The host quits when its stdin closes (the app exited or was killed).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import threading
from pathlib import Path
from queue import Queue
from typing import Any, TextIO

from ..core import wire
from ..core.cancel import CancelToken
from ..core.errors import SwapTalkError, internal_error_message
from ..engine import EngineContext
from ..engine.jobs import run_payload
from ..inference import ModelRegistry

log = logging.getLogger("swaptalk_desktop.app.job_host")


class _Warnings(logging.Handler):
    def __init__(self, out: wire.LineWriter):
        super().__init__(level=logging.WARNING)
        self.out, self.job_id = out, None

    def emit(self, record: logging.LogRecord) -> None:
        if self.job_id is not None:
            self.out.emit({"event": wire.WARNING, "id": self.job_id,
                           "message": record.getMessage()})


def _plain(value: Any) -> Any:
    """Results as JSON: dataclasses to dicts, paths to strings."""
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


class Host:
    def __init__(self, out: wire.LineWriter, models_dirs: list[Path]):
        self.out = out
        self.models_dirs = models_dirs
        self.ctx: EngineContext | None = None
        self.jobs: Queue = Queue()
        self.cancels: dict[str, CancelToken] = {}
        self.lock = threading.Lock()
        self.warnings = _Warnings(out)
        logging.getLogger("swaptalk_desktop").addHandler(self.warnings)

    def read_commands(self, stream: TextIO) -> None:
        for line in stream:
            message = wire.decode(line)
            if message is None:
                continue
            op = message.get("op")
            if op == "run":
                with self.lock:
                    self.cancels[message["id"]] = CancelToken()
                self.jobs.put(message)
            elif op == "cancel":
                with self.lock:
                    token = self.cancels.get(message.get("id"))
                if token is not None:
                    token.cancel()
            elif op == "quit":
                break
        with self.lock:  # stdin closed: the app is gone, stop what runs and leave
            for token in self.cancels.values():
                token.cancel()
        self.jobs.put(None)

    def context(self) -> EngineContext:
        if self.ctx is None:
            self.ctx = EngineContext(ModelRegistry(extra_dirs=self.models_dirs))
        return self.ctx

    def serve(self) -> None:
        self.out.emit({"event": "ready", "pid": os.getpid()})
        while (message := self.jobs.get()) is not None:
            job_id = message["id"]
            with self.lock:
                cancel = self.cancels[job_id]
            self.warnings.job_id = job_id
            try:
                if cancel.cancelled:
                    raise SwapTalkError("cancelled before it started")
                result = run_payload(message["payload"], self.context(),
                                     lambda ev, i=job_id: self.out.emit(
                                         wire.progress_message(ev, id=i)), cancel)
                self.out.emit({"event": wire.DONE, "id": job_id, "result": _plain(result)})
            except SwapTalkError as err:
                kind = wire.CANCELLED if cancel.cancelled else wire.ERROR
                self.out.emit(wire.error_message(str(err), err.exit_code, kind, id=job_id))
            except Exception as exc:  # a bug: one line for the app, the traceback in stderr
                log.exception("job %s failed", job_id)
                self.out.emit(wire.error_message(internal_error_message(exc), 1, id=job_id))
            finally:
                self.warnings.job_id = None
                with self.lock:
                    self.cancels.pop(job_id, None)


def _lower_priority() -> None:
    """Rendering yields the CPU to the editor: on a small machine the GUI's paint and input
    handling must win over a background job."""
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass


def _die_with_app() -> None:
    """Linux: be killed with the app even when it is SIGKILLed mid-job (stdin EOF covers the
    other platforms, between two batches)."""
    parent = int(os.environ.get("SWAPTALK_HOST_PARENT", "0") or 0)
    if not sys.platform.startswith("linux") or not parent:
        return
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the app died before prctl took effect
        os._exit(1)


def main() -> int:
    _die_with_app()
    _lower_priority()
    # Only protocol lines may reach the app's pipe: anything a library prints goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    dirs = [Path(p) for p in json.loads(os.environ.get("SWAPTALK_HOST_MODELS_DIRS", "[]"))]
    host = Host(wire.LineWriter(protocol), dirs)
    reader = threading.Thread(target=host.read_commands, args=(sys.stdin,), daemon=True)
    reader.start()
    host.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
