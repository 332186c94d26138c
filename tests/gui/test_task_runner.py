"""Background calls after the window closed are dropped, not raised from a Qt timer."""

from __future__ import annotations

from swaptalk_desktop.ui.tasks import TaskRunner


def test_a_call_after_shutdown_is_dropped(qtbot):
    runner = TaskRunner()
    done = []
    runner.submit(lambda: 1, on_done=done.append)
    qtbot.waitUntil(lambda: done == [1], timeout=5000)
    runner.shutdown()
    runner.submit(lambda: 2, on_done=done.append)  # raised RuntimeError before
    qtbot.wait(100)
    assert done == [1] and runner.pending() == 0
