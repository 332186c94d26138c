"""Work-arounds for defects of the pinned Qt binding (PySide6-Essentials 6.12.0).

``SignalInstance.emit`` in this build drops one reference to ``True`` on every call (measured:
N emits lower ``sys.getrefcount(True)`` by N, with or without arguments or receivers). On
Python 3.11, where ``True`` is an ordinary refcounted object, an editor that emits a few
thousand signals (every pyqtgraph pan, every progress update) ends in "Fatal Python error:
bool_dealloc". Python 3.12 made True, False and None immortal, which turns the stray decrement
into a no-op; here we do the same by giving them a reference count no program can use up.
"""

from __future__ import annotations

import ctypes
import sys

_PINNED = 1 << 40


def pin_singletons() -> None:
    if sys.version_info >= (3, 12) or getattr(pin_singletons, "done", False):
        return
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += _PINNED
    pin_singletons.done = True  # type: ignore[attr-defined]
