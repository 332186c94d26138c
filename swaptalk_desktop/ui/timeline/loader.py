"""Background fetches for the timeline's lanes: one worker thread per lane, newest request wins.

Waveform windows and thumbnail strips can take longer than a frame to produce; painting keeps
the last result until the next arrives. While a request runs, later ones replace each other, so
a fast zoom or pan costs at most one stale fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class LatestLoader(QObject):
    """Runs ``fn()`` off the GUI thread and calls ``on_result(tag, result)`` on the GUI thread."""

    _done = Signal(object, object, object)  # tag, result, error

    def __init__(self, on_result: Callable[[Any, Any], None], name: str,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._on_result = on_result
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"timeline-{name}")
        self._pending: tuple[Any, Callable[[], Any]] | None = None
        self._busy = False
        self._closed = False
        self._done.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return self._busy or self._pending is not None

    def request(self, tag: Any, fn: Callable[[], Any]) -> None:
        if self._closed:
            return
        self._pending = (tag, fn)
        if not self._busy:
            self._start_next()

    def _start_next(self) -> None:
        if self._pending is None:
            return
        tag, fn = self._pending
        self._pending = None
        self._busy = True
        self._pool.submit(self._run, tag, fn)

    def _run(self, tag: Any, fn: Callable[[], Any]) -> None:
        try:
            result, error = fn(), None
        except Exception as exc:  # a bad file must not take the timeline down
            result, error = None, exc
        if self._closed:
            return
        try:
            self._done.emit(tag, result, error)
        except RuntimeError:  # the widget went away while we worked
            pass

    def _deliver(self, tag: Any, result: Any, error: Exception | None) -> None:
        self._busy = False
        if error is not None:
            log.warning("timeline background fetch failed: %s", error)
        elif not self._closed:
            self._on_result(tag, result)
        self._start_next()

    def close(self) -> None:
        self._closed = True
        self._pending = None
        self._pool.shutdown(wait=False, cancel_futures=True)
