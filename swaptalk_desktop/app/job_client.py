"""The app's side of the processing host (see job_host.py): starts it, sends jobs, turns its
JSON lines back into progress callbacks, results and one-line errors. Qt-free; ``run`` blocks
the calling (job queue) thread, which spends its time waiting on a pipe, not on the GIL."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from queue import Empty, Queue

from ..core import wire
from ..core.cancel import CancelToken
from ..core.errors import Cancelled, SwapTalkError

log = logging.getLogger(__name__)


class JobFailed(SwapTalkError):
    """The host reported a one-line error for the job (its exit code is kept)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


class HostClient:
    def __init__(self, models_dirs: list[Path] | None = None, log_path: Path | None = None):
        self.models_dirs = [Path(p) for p in models_dirs or []]
        self.log_path = log_path
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._waiters: dict[str, Queue] = {}
        self.starts = 0
        """How many host processes were started (a crash starts a new one for the next job)."""

    # --- process ----------------------------------------------------------------------------
    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        env["SWAPTALK_HOST_MODELS_DIRS"] = json.dumps([str(p) for p in self.models_dirs])
        stderr = subprocess.DEVNULL
        if self.log_path is not None:
            try:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                stderr = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
            except OSError:
                stderr = subprocess.DEVNULL
        env["SWAPTALK_HOST_PARENT"] = str(os.getpid())
        # The host is found as the editor was: this interpreter imports the installed package
        # (a wheel, or a checkout installed editable), so no path is added.
        # No preexec_fn: without it Python spawns with vfork, which does not copy the
        # editor's page tables (a fork of a large process stalls every thread in it).
        proc = subprocess.Popen(
            [sys.executable, "-m", "swaptalk_desktop.app.job_host"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1, env=env)
        if stderr is not subprocess.DEVNULL:
            stderr.close()
        self.starts += 1
        threading.Thread(target=self._read, args=(proc,), daemon=True,
                         name="job-host-reader").start()
        return proc

    def warm_up(self) -> None:
        """Start the host ahead of the first job (it imports the engine, ~2 s)."""
        threading.Thread(target=self._ensure, daemon=True, name="job-host-start").start()

    def _ensure(self) -> subprocess.Popen:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            return self._proc

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            event = wire.decode(line)
            if event is None:
                continue
            queue = self._waiters.get(event.get("id"))
            if queue is not None:
                queue.put(event)
        for queue in list(self._waiters.values()):
            queue.put({"event": "_exit"})

    def _send(self, proc: subprocess.Popen, message: dict) -> bool:
        try:
            proc.stdin.write(wire.encode(message))
            proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)

    # --- jobs -------------------------------------------------------------------------------
    def run(self, job_id: str, payload: dict, on_progress: Callable[[dict], None],
            cancel: CancelToken) -> dict:
        """Run one job in the host; raises Cancelled, JobFailed or a SwapTalkError."""
        queue: Queue = Queue()
        self._waiters[job_id] = queue
        try:
            proc = self._ensure()
            if not self._send(proc, wire.run_request(job_id, payload)):
                raise SwapTalkError("the processing process could not be started; see the log")
            asked_cancel = False
            while True:
                try:
                    event = queue.get(timeout=0.1)
                except Empty:
                    if cancel.cancelled and not asked_cancel:
                        asked_cancel = self._send(proc, wire.cancel_request(job_id))
                    if proc.poll() is not None and queue.empty():
                        event = {"event": "_exit"}
                    else:
                        continue
                kind = event.get("event")
                if kind == wire.PROGRESS:
                    on_progress(event)
                elif kind == wire.WARNING:
                    log.warning("%s", event.get("message"))
                elif kind == wire.DONE:
                    return event.get("result") or {}
                elif kind == wire.CANCELLED:
                    raise Cancelled()
                elif kind == wire.ERROR:
                    raise JobFailed(event.get("message", "failed"), event.get("exit_code", 2))
                elif kind == "_exit":
                    code = proc.poll()
                    if cancel.cancelled:
                        raise Cancelled()
                    raise SwapTalkError(
                        f"the processing process stopped unexpectedly (exit code {code}); "
                        "finished chunks are kept, retry the job to resume")
        finally:
            self._waiters.pop(job_id, None)
