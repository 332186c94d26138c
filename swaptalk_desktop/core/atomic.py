"""Write files so that a reader sees either the old file or the complete new one."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError


def check_writable_dir(path: Path) -> None:
    """Fail early, before any long work, if ``path``'s folder cannot take a new file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {folder}")


def probe_writable_dir(path: Path) -> None:
    """``check_writable_dir`` plus a real write: create and remove a hidden file beside ``path``.

    ``os.access`` trusts the permission bits, which root passes everywhere; a folder that is
    immutable, on a read-only mount or on a root-squashed network share only shows by trying.
    """
    check_writable_dir(path)
    folder = path.resolve().parent
    try:
        fd, name = tempfile.mkstemp(prefix=".swaptalk-write-test-", dir=folder)
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise OutputError(f"cannot write {path}: no permission to write in {folder}") from err
        if err.errno == errno.ENOSPC:
            raise _describe_os_error(path, err) from err
        raise OutputError(f"cannot write {path}: {folder} does not take new files "
                          f"({err.strerror or err})") from err
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    _check_replaceable(path, folder)


def _check_replaceable(path: Path, folder: Path) -> None:
    """An existing file in a sticky folder (``/tmp``) that only its owner may replace."""
    try:
        st, dst = path.lstat(), folder.stat()
    except OSError:
        return
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if (euid not in (None, 0) and dst.st_mode & stat.S_ISVTX
            and euid not in (st.st_uid, dst.st_uid)):
        raise OutputError(f"cannot replace {path}: it belongs to another user in a shared "
                          "folder; choose another name")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _describe_os_error(path: Path, err: OSError) -> OutputError:
    if err.errno == errno.ENOSPC:
        return OutputError(f"disk full while writing {path}; free space or choose another folder")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"cannot write {path}: permission denied")
    return OutputError(f"cannot write {path}: {err.strerror or err}")


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    The temporary file is hidden (leading dot), keeps the final suffix so that tools which pick a
    format from the extension (ffmpeg muxers) still work, and is removed on any failure.
    """
    path = Path(path)
    check_writable_dir(path)
    suffix = path.suffix if suffix is None else suffix
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.partial-", suffix=suffix,
                                        dir=path.resolve().parent)
    except OSError as err:
        raise _describe_os_error(path, err) from err
    # mkstemp makes the file private (0600); an export should get the permissions any new
    # file of the user's gets.
    os.fchmod(fd, 0o666 & ~_current_umask())
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _describe_os_error(path, err) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_text_atomic(path: Path | str, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
