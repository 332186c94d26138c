"""One writer per output file: an exclusive lock held for the whole render or export.

Two renders started together with the same output would otherwise both run to the end, both
report success, and the second rename would silently replace the first file. The lock is an
``flock`` on a hidden file beside the output (``.NAME.swaptalk-lock``), taken without waiting:
the second render is refused at once with a line naming the first.

Only the kernel's lock counts, never the file's existence: the kernel drops an ``flock`` when
its process dies, so a lock file left by a crashed or killed render blocks nothing. The holder
removes the file (while still holding the lock) when it is done; a process that locked a file
which was removed meanwhile notices the changed inode and locks the new file instead.

Creating the lock file is also a real write test of the output folder, which ``os.access``
is not (it says yes to root in a read-only-mounted folder, an immutable folder, an NFS export
with root squashing...), so an output that cannot be written fails here, before any work.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no flock; the write test still runs, the render is not locked
    fcntl = None

LOCK_SUFFIX = ".swaptalk-lock"


class OutputBusyError(OutputError):
    """Another process is writing the same output file right now."""

    def __init__(self, output: Path, holder: str = ""):
        self.output = output
        self.holder = holder
        who = f" ({holder})" if holder else ""
        super().__init__(f"another render{who} is writing {output}; wait for it to finish or "
                         "choose another output")


def lock_path(output: Path | str) -> Path:
    """The lock file of ``output``: hidden, beside it, the same for every spelling of it."""
    output = Path(output).resolve()
    return output.with_name(f".{output.name}{LOCK_SUFFIX}")


def _open_error(output: Path, folder: Path, err: OSError) -> OutputError:
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "read-only file system" if err.errno == errno.EROFS else "permission denied"
        return OutputError(f"cannot write {output}: no permission to write in {folder} ({why})")
    if err.errno == errno.ENOSPC:
        return OutputError(f"cannot write {output}: the disk is full; free space or choose "
                           "another folder")
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return OutputError(f"cannot write {output}: folder {folder} does not exist")
    return OutputError(f"cannot write {output}: {err.strerror or err}")


def _holder(fd: int) -> str:
    """Who holds the lock, from what it wrote into the file (best effort)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return ""
    if not isinstance(data, dict) or "pid" not in data:
        return ""
    text = f"process {data['pid']}"
    if data.get("started"):
        text += f", started {data['started']}"
    return text


@contextlib.contextmanager
def output_lock(output: Path | str, what: str = "render") -> Iterator[Path]:
    """Hold the exclusive lock of ``output`` for the body; raises ``OutputBusyError`` at once
    when another process holds it, ``OutputError`` when its folder cannot take a new file."""
    output = Path(output)
    path = lock_path(output)
    for _attempt in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as err:
            raise _open_error(output, path.parent, err) from err
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputBusyError(output, holder) from None
        except OSError as err:  # a file system without locks: go on unlocked, as before
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                os.close(fd)
                raise _open_error(output, path.parent, err) from err
        # The previous holder may have removed the file between our open and our lock; then
        # this lock guards nothing and the file at ``path`` (if any) is the one to lock.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is None or (current.st_ino, current.st_dev) != (mine.st_ino, mine.st_dev):
            os.close(fd)
            continue
        break
    else:  # pragma: no cover - would need another process deleting the file in a tight loop
        raise OutputBusyError(output)
    try:
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "what": what,
                "started": time.strftime("%Y-%m-%d %H:%M:%S"), "output": str(output)}
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    except (OSError, AttributeError):  # no pwrite on Windows
        pass  # the note is only for the message of a refused render
    try:
        yield path
    finally:
        # Remove the file while the lock is still held, so nobody can lock the old inode and
        # think it owns the output (they recheck the inode after locking).
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
