"""The event loop stays responsive while a processing job runs (the one timed test).

Processing runs in the app's processing host (a child process at lower priority), so the GUI
process only relays progress. Other programs can still starve the GUI of CPU: when the machine
was overloaded during the measurement (load average above twice the core count) and the limit
was missed, the test is skipped with the numbers instead of failing on someone else's load.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from gui_helpers import WAIT_MS, import_and_open, media_id, wait_job
from PySide6.QtCore import QTimer

from swaptalk_desktop.core.commands import SetEditField

TICK_MS = 10
MAX_DRIFT_MS = 100


def test_event_loop_latency_while_processing(qtbot, window, clip, face_photo, dialogue):
    w = window
    clip_id = import_and_open(qtbot, w, clip, face_photo, dialogue)
    w.seek(0)
    w.add_edit()
    edit = w.controller.project.clips[clip_id].edits[0]
    w.controller.push(SetEditField(clip_id, edit.id, "photo_id", media_id(w, face_photo)))
    job = w.job_for(edit.id)
    qtbot.waitUntil(lambda: job in w.jobs.status, timeout=WAIT_MS)  # settled before measuring
    qtbot.waitUntil(w.preview.idle, timeout=WAIT_MS)

    late: list[float] = []
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        late.append((now - last[0]) * 1000 - TICK_MS)
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    job_id = w.process_edits([edit.id])[0]
    wait_job(qtbot, w, job_id)
    timer.stop()

    record = w.jobs.record(job_id)
    assert record.state == "done", record.error
    assert sum(r["chunks_rendered"] for r in record.result) > 0  # real work happened
    assert len(late) > 100
    drift = np.array(late[1:])
    print(f"\nevent loop: {len(drift)} ticks, max drift {drift.max():.1f} ms, "
          f"p99 {np.percentile(drift, 99):.1f} ms")
    load = os.getloadavg()[0]
    if drift.max() >= MAX_DRIFT_MS and load > 2 * (os.cpu_count() or 1):
        pytest.skip(f"machine overloaded by other programs (load {load:.1f}); max drift "
                    f"{drift.max():.0f} ms is not the editor's")
    assert drift.max() < MAX_DRIFT_MS
