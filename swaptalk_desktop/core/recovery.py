"""Autosaves and the session lock that tells a crash from a clean exit.

The running app holds ``sessions/<pid>.lock`` in the user data folder and writes autosaves to
``autosave/``, each stamped with its writer's process id and start time. A clean exit deletes the
session's autosaves and its lock. So an autosave whose writer is no longer running (no lock, a
dead process, or a process id that now belongs to another program) was left by a crash and is
offered for recovery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import platformdirs

from .atomic import write_text_atomic
from .errors import InputError
from .project import Project, normalize_path
from .project_format import FormatError, dumps, project_from_dict, project_to_dict

log = logging.getLogger(__name__)

APP_DIR_NAME = "swaptalk-desktop"
AUTOSAVE_SUFFIX = ".swaptalk-autosave"


def data_root() -> Path:
    return Path(platformdirs.user_data_dir(APP_DIR_NAME))


def autosave_dir() -> Path:
    return data_root() / "autosave"


def sessions_dir() -> Path:
    return data_root() / "sessions"


# --- processes ----------------------------------------------------------------------------------
def process_start(pid: int) -> str | None:
    """A token that differs between two processes that had the same id (Linux: start time in
    clock ticks since boot); None where the platform does not tell, or for a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] == "Z":
        return None
    return fields[19]


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if Path("/proc").is_dir() and Path(f"/proc/{pid}").is_dir():
        return process_start(pid) is not None  # a zombie is dead for our purposes
    return True


def _windows_pid_alive(pid: int) -> bool:
    # os.kill on Windows terminates the process, so ask the kernel instead.
    import ctypes
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _stamp() -> dict:
    return {"pid": os.getpid(), "process_start": process_start(os.getpid())}


def _is_ours(stamp: dict) -> bool:
    return stamp.get("pid") == os.getpid() and \
        stamp.get("process_start") == process_start(os.getpid())


def session_running(stamp: dict) -> bool:
    """Whether the app session that wrote ``stamp`` still runs (holds its lock)."""
    pid = stamp.get("pid")
    if not isinstance(pid, int) or not (sessions_dir() / f"{pid}.lock").exists():
        return False
    if not pid_alive(pid):
        return False
    start = stamp.get("process_start")
    return start is None or start == process_start(pid)


# --- the session lock ---------------------------------------------------------------------------
class SessionLock:
    """Held by the running app; ``release()`` on a clean exit only."""

    def __init__(self) -> None:
        self.path = sessions_dir() / f"{os.getpid()}.lock"

    def acquire(self) -> SessionLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for lock in self.path.parent.glob("*.lock"):
            if lock != self.path and not session_running(_read_json(lock) or {}):
                lock.unlink(missing_ok=True)  # a crashed session's; its autosaves stay
        write_text_atomic(self.path, json.dumps({**_stamp(), "started_at": time.time()}))
        return self

    def release(self, discard_autosaves: bool = True) -> None:
        if discard_autosaves:
            for path in autosave_dir().glob(f"*{AUTOSAVE_SUFFIX}"):
                data = _read_json(path)
                if data and _is_ours(data.get("autosave", {})):
                    path.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> SessionLock:
        return self.acquire()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.release(discard_autosaves=exc_type is None)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --- autosaves ----------------------------------------------------------------------------------
def autosave_path(project_path: Path | str | None) -> Path:
    """Where this session autosaves the project saved at ``project_path`` (None: untitled)."""
    if project_path is None:
        name = f"untitled-{os.getpid()}"
    else:
        full = normalize_path(project_path)
        stem = re.sub(r"[^\w.-]+", "_", full.stem)[:40] or "project"
        name = f"{stem}-{hashlib.sha256(str(full).encode()).hexdigest()[:12]}"
    return autosave_dir() / f"{name}{AUTOSAVE_SUFFIX}"


def write_autosave(project: Project, project_path: Path | str | None = None) -> Path:
    """Write the document beside no user file; paths stay relative to the project's folder."""
    full = normalize_path(project_path) if project_path is not None else None
    path = autosave_path(full)
    data = {"autosave": {**_stamp(), "project_path": str(full) if full else None,
                         "saved_at": time.time()},
            "project": project_to_dict(project, full.parent if full else None)}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, dumps(data, indent=1))
    return path


def discard_autosave(autosave_file: Path) -> None:
    """After a save, a close without saving, or a declined recovery."""
    Path(autosave_file).unlink(missing_ok=True)


@dataclass(frozen=True)
class RecoveryCandidate:
    autosave_path: Path
    project_path: Path | None
    saved_at: datetime

    def load(self) -> Project:
        return load_autosave(self.autosave_path)

    def discard(self) -> None:
        discard_autosave(self.autosave_path)


def load_autosave(path: Path) -> Project:
    data = _read_json(Path(path))
    if data is None or not isinstance(data.get("autosave"), dict):
        raise FormatError(f"{Path(path).name} is not a SwapTalk autosave; discard it")
    project_path = data["autosave"].get("project_path")
    base = Path(project_path).parent if project_path else None
    return project_from_dict(data.get("project"), base, Path(path).name)


def pending_recovery() -> list[RecoveryCandidate]:
    """Autosaves left by sessions that did not exit cleanly, newest first."""
    found = []
    for path in autosave_dir().glob(f"*{AUTOSAVE_SUFFIX}"):
        data = _read_json(path)
        stamp = data.get("autosave") if data else None
        if not isinstance(stamp, dict):
            log.warning("ignoring unreadable autosave %s", path)
            continue
        if _is_ours(stamp) or session_running(stamp):
            continue
        try:
            saved_at = datetime.fromtimestamp(float(stamp.get("saved_at", 0))).astimezone()
            project_path = stamp.get("project_path")
            found.append(RecoveryCandidate(path, Path(project_path) if project_path else None,
                                           saved_at))
        except (TypeError, ValueError, OSError, InputError):
            log.warning("ignoring autosave %s with a damaged header", path)
    return sorted(found, key=lambda c: c.saved_at, reverse=True)


def recovery_for(project_path: Path | str) -> list[RecoveryCandidate]:
    """The crashed sessions' autosaves of the project saved at ``project_path``, newest first:
    what opening that file (by any way) offers before it reads the file."""
    wanted = normalize_path(project_path)
    return [c for c in pending_recovery()
            if c.project_path is not None and normalize_path(c.project_path) == wanted]
