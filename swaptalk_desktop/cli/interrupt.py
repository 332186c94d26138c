"""Ctrl-C during a long command: the first one cancels after the current batch (finished
chunks are kept for a rerun), a second one aborts at once."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from ..core.cancel import CancelToken


@contextlib.contextmanager
def ctrl_c_cancels(display) -> Iterator[CancelToken]:
    cancel = CancelToken()

    def on_sigint(signum, frame):
        if cancel.cancelled:  # a second Ctrl-C means "now"
            raise KeyboardInterrupt
        cancel.cancel()
        display.message("stopping after the current batch... (Ctrl-C again to abort at once)")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)
