"""The JSON-lines wire protocol: what one side writes the other reads back unchanged."""

from __future__ import annotations

import io

from swaptalk_desktop.core import wire
from swaptalk_desktop.core.errors import internal_error_message
from swaptalk_desktop.core.progress import ProgressEvent


def test_progress_round_trips_through_a_line():
    ev = ProgressEvent("render", 3, 10, 2.5, 2.8, "edit 1 of 2", fraction=0.4, job_eta_s=9.0)
    stream = io.StringIO()
    wire.LineWriter(stream).emit(wire.progress_message(ev, id="j1"))
    line = stream.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    message = wire.decode(line)
    assert message["event"] == wire.PROGRESS and message["id"] == "j1" and "time" in message
    assert wire.progress_event(message) == ev


def test_lines_that_are_not_messages_are_ignored():
    assert wire.decode("Downloading model...\n") is None
    assert wire.decode("[1, 2]\n") is None
    assert wire.decode('{"event": "info"') is None


def test_error_message_keeps_the_exit_code_and_extra_fields():
    message = wire.error_message("no face", 2, wire.CANCELLED, id="j2")
    assert message == {"event": "cancelled", "id": "j2", "message": "no face", "exit_code": 2}


def test_internal_error_is_one_line_naming_the_exception():
    text = internal_error_message(ValueError("bad\nvalue"), "saving", "/tmp/x.log")
    assert text == "internal error while saving (ValueError: bad value); details in /tmp/x.log"
    assert internal_error_message(KeyError("k")) == "internal error (KeyError: 'k')"


def test_a_line_written_from_inside_a_write_does_not_deadlock():
    """What a SIGINT handler does when the signal lands while the main thread is writing."""
    import io
    import threading

    from swaptalk_desktop.core import wire

    class Stream(io.StringIO):
        def write(self, text):
            done = super().write(text)
            if not nested:
                nested.append(True)
                writer.emit({"event": "info", "message": "stopping"})  # the handler's line
            return done

    nested: list[bool] = []
    stream = Stream()
    writer = wire.LineWriter(stream)
    worker = threading.Thread(target=writer.emit, args=({"event": "progress"},), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "emit deadlocked on its own lock"
    lines = [wire.decode(line) for line in stream.getvalue().splitlines()]
    assert [m["event"] for m in lines] == ["progress", "info"]
