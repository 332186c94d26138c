"""Progress on a terminal (one redrawn bar per stage) or as JSON lines for machines."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from ..core import wire
from ..core.progress import ProgressEvent


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


class Display:
    """Human output on stderr. On a terminal the bar redraws in place; in a log it prints
    a line every quarter so CI logs stay short."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self._stage: str | None = None
        self._last_quarter = -1
        self._bar_shown = False

    def progress(self, ev: ProgressEvent) -> None:
        if self.quiet:
            return
        if ev.stage != self._stage:
            self._end_bar()
            self._stage, self._last_quarter = ev.stage, -1
        total = max(ev.total, 1)
        if self.tty:
            width = 28
            filled = int(width * min(ev.done, total) / total)
            bar = "#" * filled + "." * (width - filled)
            line = (f"\r{ev.label:<16} [{bar}] {ev.done}/{ev.total}  {ev.fps:6.1f} fps  "
                    f"ETA {_clock(ev.eta_s)} ")
            self.stream.write(line)
            self.stream.flush()
            self._bar_shown = True
            return
        quarter = 4 * ev.done // total
        if quarter != self._last_quarter:
            self._last_quarter = quarter
            self.stream.write(f"{ev.label}: {ev.done}/{ev.total} frames, {ev.fps:.1f} fps, "
                              f"ETA {_clock(ev.eta_s)}\n")
            self.stream.flush()

    def _end_bar(self) -> None:
        if self._bar_shown:
            self.stream.write("\n")
            self._bar_shown = False

    def message(self, text: str) -> None:
        self._end_bar()
        self.stream.write(text + "\n")
        self.stream.flush()

    def warning(self, text: str) -> None:
        self.message(f"warning: {text}")

    def error(self, text: str) -> None:
        self.message(f"error: {text}")

    def done(self, payload: dict, text: str) -> None:
        self.message(text)


class JsonDisplay:
    """The wire protocol (core/wire.py) on stdout: progress, info, warning, done, error,
    cancelled."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._out = wire.LineWriter(self.stream)

    def progress(self, ev: ProgressEvent) -> None:
        self._out.emit(wire.progress_message(ev))

    def message(self, text: str) -> None:
        self._out.emit({"event": wire.INFO, "message": text})

    def warning(self, text: str) -> None:
        self._out.emit({"event": wire.WARNING, "message": text})

    def error(self, text: str, exit_code: int = 2, kind: str = wire.ERROR) -> None:
        self._out.emit(wire.error_message(text, exit_code, kind))

    def done(self, payload: dict, text: str) -> None:
        self._out.emit({"event": wire.DONE, **payload})


class DisplayLogHandler(logging.Handler):
    """Routes library warnings through the display so they never break a progress bar."""

    def __init__(self, display: Display | JsonDisplay):
        super().__init__(level=logging.WARNING)
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        self.display.warning(record.getMessage())
