"""Cooperative cancellation shared by the engine, the CLI and the GUI workers."""

from __future__ import annotations

import threading

from .errors import Cancelled


class CancelToken:
    """Set from any thread; long loops call :meth:`raise_if_cancelled` between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


NEVER = CancelToken()
"""A token nobody cancels, for callers that do not need cancellation."""
