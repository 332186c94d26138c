"""Small background calls (probing, fingerprints, waveform peaks, cache sizes) off the GUI thread.

Results come back through one queued Qt signal and the callback runs on the GUI thread, so the
callers never touch widgets from a worker.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..app.errors import user_message

log = logging.getLogger(__name__)


class TaskRunner(QObject):
    _finished = Signal(int, object, object)  # token, result, error message

    def __init__(self, workers: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ui-task")
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._tokens = itertools.count(1)
        self._finished.connect(self._deliver)
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any, on_done: Callable | None = None,
               on_error: Callable[[str], None] | None = None, doing: str = "") -> int:
        token = next(self._tokens)
        if self._closed:  # the window is closing (e.g. a queued open after the last close)
            return token
        self._callbacks[token] = (on_done, on_error)
        future = self._pool.submit(fn, *args)

        def finished(f: Future) -> None:
            if self._closed:
                return
            exc = f.exception()
            if exc is None:
                self._finished.emit(token, f.result(), None)
            else:
                self._finished.emit(token, None, user_message(exc, doing))

        future.add_done_callback(finished)
        return token

    def pending(self) -> int:
        return len(self._callbacks)

    def _deliver(self, token: int, result: Any, error: str | None) -> None:
        on_done, on_error = self._callbacks.pop(token, (None, None))
        if error is None:
            if on_done is not None:
                on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            log.warning("background task failed: %s", error)

    def shutdown(self) -> None:
        self._closed = True
        self._callbacks.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
