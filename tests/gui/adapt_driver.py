"""Runs the real editor in its own process for the kill-mid-adaptation test.

Usage: python adapt_driver.py PROJECT BASE_SET STEPS MODELS_DIR...
Starts the app on PROJECT (as ``swaptalk-desktop PROJECT --models-dir DIR...`` does), and once
the clip is open starts Adapt to This Actor from BASE_SET with STEPS steps on all the usable
footage; prints one JSON line per event on stdout: {"event": "queued", ...}, then "tick"s.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from PySide6.QtCore import QTimer  # noqa: E402

from swaptalk_desktop.ui.app import create_window  # noqa: E402


def say(**event) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    project, base, steps, *models = sys.argv[1:]
    argv = [project] + [arg for m in models for arg in ("--models-dir", m)]
    app, window = create_window(argv)
    window.show()
    state = {"queued": False}

    def poll() -> None:
        if not state["queued"] and window.info is not None:
            state["queued"] = True
            dialog = window.adapt.open_dialog()
            dialog.base.setCurrentIndex(dialog.base.findData(base))
            dialog.minutes.setValue(0)
            dialog.steps.setValue(int(steps))
            dialog.start_button.click()
            say(event="queued", jobs=[r.id for r in window.jobs.records()])
        elif state["queued"]:
            say(event="tick", host_pid=window.jobs.client.pid)

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(200)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
