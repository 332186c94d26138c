"""Runs the real editor in its own process for the kill-and-recover test.

Usage: python app_driver.py PROJECT MODELS_DIR
Starts the app the way ``swaptalk-desktop PROJECT --models-dir MODELS_DIR`` does, presses
Process All once the clip is open, and prints one JSON line per event on stdout:
{"event": "started", "pid": ..., "host_pid": ...}, {"event": "queued", "job": ...}.
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
    project, models = sys.argv[1], sys.argv[2]
    app, window = create_window([project, "--models-dir", models])
    window.show()
    state = {"queued": False}

    def poll() -> None:
        if not state["queued"] and window.info is not None:
            state["queued"] = True
            window.acts.process_all.trigger()
            say(event="queued", jobs=[r.id for r in window.jobs.records()],
                host_pid=window.jobs.client.pid)
        elif state["queued"]:
            say(event="tick", host_pid=window.jobs.client.pid)

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(200)
    say(event="started", pid=os.getpid())
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
