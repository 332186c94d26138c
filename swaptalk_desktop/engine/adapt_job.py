"""The editor's "Adapt to this actor" job: ``swaptalk adapt --json-progress`` in a child process.

A child, not a thread of the processing host: training needs torch (the host and the engine
must work without it), holds both cores for tens of minutes, and frees its memory when it
exits. Its JSON lines become progress events; Cancel sends SIGTERM, on which the command saves
its checkpoint and exits; a retry (or the crash-recovery re-queue) runs the same command, which
resumes from the work folder. Qt-free and torch-free.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from queue import Empty, Queue

from ..core import wire
from ..core.cachedir import cache_root
from ..core.cancel import CancelToken
from ..core.errors import Cancelled, SwapTalkError
from ..core.progress import ProgressCallback

log = logging.getLogger(__name__)
STOP_WITH_PARENT_ENV = "SWAPTALK_STOP_WITH_PARENT"  # read by cli/adapt_cmd.py
STOP_GRACE_S = 120.0
"""After SIGTERM the command finishes its step and writes its checkpoint; a big step on a slow
CPU takes seconds, so this only bounds a hang."""


class AdaptFailed(SwapTalkError):
    """The adapt command reported a one-line error (its exit code is kept)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def work_folder(set_id: str) -> Path:
    """Where ``swaptalk adapt`` keeps a set's work by default (the editor passes it
    explicitly, so a retry after a change of cache folder still resumes)."""
    return cache_root() / "adapt" / set_id


def adapt_command(payload: dict) -> list[str]:
    """The command line of an adapt job payload (JSON-ready: saved with the project)."""
    argv = [sys.executable, "-m", "swaptalk_desktop", "adapt", "--video", str(payload["video"]),
            "--set-id", str(payload["set_id"]), "--json-progress"]
    if payload.get("work"):
        argv += ["--work", str(payload["work"])]
    for start, stop in payload.get("exclude") or []:
        argv += ["--exclude", f"{int(start)}:{int(stop)}"]
    minutes = payload.get("minutes")
    argv += ["--minutes", "0" if not minutes else f"{float(minutes):g}"]
    for key, flag in (("base_set", "--base-set"), ("steps", "--steps"),
                      ("threads", "--threads"), ("device", "--device"), ("batch", "--batch")):
        if payload.get(key) not in (None, ""):
            argv += [flag, str(payload[key])]
    if payload.get("fp16") is False:
        argv.append("--no-fp16")
    for folder in payload.get("models_dirs") or []:
        argv += ["--models-dir", str(folder)]
    return argv


def run_adapt_job(payload: dict, progress: ProgressCallback, cancel: CancelToken) -> dict:
    """Run the adaptation to its end; returns the command's ``done`` object (``set_id``, ...).
    Raises Cancelled (checkpoint kept) or a one-line SwapTalkError."""
    argv = adapt_command(payload)
    env = dict(os.environ)
    env[STOP_WITH_PARENT_ENV] = str(os.getpid())
    work = Path(payload.get("work") or work_folder(str(payload["set_id"])))
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "adapt.log", "a", encoding="utf-8") as stderr:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr, text=True, bufsize=1, env=env)
    lines: Queue = Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True, name="adapt-reader").start()
    stop_sent = False
    result: dict | None = None
    failure: tuple[str, int] | None = None
    stopped = False
    try:
        while True:
            if cancel.cancelled and not stop_sent:
                _stop(proc)
                stop_sent = True
            try:
                line = lines.get(timeout=0.2)
            except Empty:
                continue
            if line is None:
                break
            event = wire.decode(line)
            if event is None:
                continue
            kind = event.get("event")
            if kind == wire.PROGRESS:
                progress(wire.progress_event(event))
            elif kind == wire.INFO:
                log.info("adapt: %s", event.get("message"))
            elif kind == wire.WARNING:
                log.warning("%s", event.get("message"))
            elif kind == wire.DONE:
                result = {k: v for k, v in event.items() if k not in ("event", "time")}
            elif kind == wire.CANCELLED:
                stopped = True
            elif kind == wire.ERROR:
                failure = (str(event.get("message") or "adaptation failed"),
                           int(event.get("exit_code") or 2))
        code = proc.wait(timeout=STOP_GRACE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if result is not None and code == 0:
        return result
    if stopped or (stop_sent and failure is None):
        raise Cancelled("adaptation stopped; its checkpoint is kept and Retry resumes from it")
    if failure is not None:
        raise AdaptFailed(*failure)
    raise SwapTalkError(f"the adaptation process stopped unexpectedly (exit code {code}); "
                        f"retry to resume from its last checkpoint (log: {work / 'adapt.log'})")


def _stop(proc: subprocess.Popen) -> None:
    try:
        if sys.platform == "win32":
            proc.terminate()  # no SIGTERM handler there: the last checkpoint is what is kept
        else:
            proc.send_signal(signal.SIGTERM)
    except (ProcessLookupError, OSError):
        pass
