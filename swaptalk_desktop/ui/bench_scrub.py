"""The Qt half of ``swaptalk bench scrub`` (the rest, Qt-free, is eval/bench_scrub.py): the real
editor window, offscreen, with a clip, a photo and a line imported as a drop would, the edits
added to the project and the ones marked for it processed by the window's own job host, so
their chunks are in the render cache. Then the playhead moves the way a drag on the timeline
moves it (the timeline's ``playheadDragged`` signal, which the window's ``seek`` answers, as it
does the arrow keys), once per planned frame, and for each move this records:

- ``source_ms``: until the viewer was handed that frame's source picture (``show_frame``);
- ``shown_ms``: until the viewer was handed the picture the user waits for: inside an edit the
  processed result for that frame (``show_processed``: from the cache, computed live, or the
  source with a "needs processing" note), outside the edits the source picture;
- ``painted_ms``: until the viewer's canvas had painted that picture (its next paint event);
- the viewer's note and whether picture B differs from A, which is what the user sees;
- the GUI thread's longest stall meanwhile (a 5 ms timer that should fire every 5 ms).

Waiting uses a QEventLoop (no polling), so the measurement takes no CPU from the workers.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np


def measure(clip: Path, photo: Path, dialogue: Path, edits: list[dict],
            moves: list[tuple[str, int]], *, model_set: str | None = None,
            models_dirs: tuple[Path, ...] = (), cache_dir: Path | None = None,
            warmup: list[tuple[str, int]] = (), timeout_s: float = 120.0) -> dict:
    """``edits``: ``{"case", "start", "stop", "photo", "dialogue", "process"}`` each;
    ``moves``: (case, frame) in the order the playhead visits them. Returns the setup's
    seconds and one row per move (``warmup`` moves are made first and not returned)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from PySide6.QtCore import (
        QElapsedTimer,
        QEvent,
        QEventLoop,
        QObject,
        QTimer,
        qInstallMessageHandler,
    )
    from PySide6.QtWidgets import QApplication

    from ..app.preferences import Preferences
    from ..core.commands import AddEdit
    from ..core.project import RangeEdit
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([])

    def quiet(kind, context, message):  # the offscreen platform's one line per dock layout
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            print(message, file=sys.stderr)
    previous = qInstallMessageHandler(quiet)
    prefs = Preferences(model_set=model_set, autosave_s=3600,
                        cache_dir=str(cache_dir) if cache_dir else None)
    w = MainWindow(prefs, models_dirs=list(models_dirs), session_lock=False)
    w.ask_before_closing = False
    w.show()
    viewer = w.viewer
    loop = QEventLoop()
    state: dict = {"target": None, "done": None, "t0": 0.0}
    marks: dict[str, float | None] = {}

    def wake_if_done() -> None:
        if state["done"] is not None and state["done"]():
            loop.quit()

    def wait(done, limit_s: float = timeout_s) -> bool:
        if done():
            return True
        state["done"] = done
        guard = QTimer(singleShot=True, interval=int(limit_s * 1000))
        guard.timeout.connect(loop.quit)
        poll = QTimer(interval=20)  # for conditions no hook sees (a job's end, a model load)
        poll.timeout.connect(wake_if_done)
        guard.start()
        poll.start()
        loop.exec()
        guard.stop()
        poll.stop()
        state["done"] = None
        return done()

    # the viewer's two display methods and its canvas's paints, timed at the moment they run
    show_frame, show_processed = viewer.show_frame, viewer.show_processed

    def on_frame(index, original, timecode=""):
        show_frame(index, original, timecode)
        if index == state["target"] and marks.get("source") is None:
            marks["source"] = time.perf_counter()
        wake_if_done()

    def on_processed(index, processed, note=""):
        show_processed(index, processed, note)
        if index == state["target"] and viewer.processed_index == index and \
                marks.get("processed") is None:
            marks["processed"] = time.perf_counter()
            marks["note"] = note
        wake_if_done()

    viewer.show_frame, viewer.show_processed = on_frame, on_processed

    class PaintWatch(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                key = "painted_processed" if viewer.processed_index == state["target"] \
                    else "painted_source" if viewer.index == state["target"] else None
                if key is not None and marks.get(key) is None:
                    marks[key] = time.perf_counter()
                QTimer.singleShot(0, wake_if_done)
            return False

    watch = PaintWatch()
    viewer.canvas.installEventFilter(watch)

    stalls: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        stalls.append(now - last[0] - 5)
        last[0] = now
    ticker = QTimer(interval=5)
    ticker.timeout.connect(tick)

    setup: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        w.import_files([clip, photo, dialogue])
        if not wait(lambda: len(w.controller.project.media) == 3 and w.info is not None):
            raise RuntimeError("the clip did not open in the editor")
        setup["open_s"] = time.perf_counter() - t0
        ids = {m.path: m.id for m in w.controller.project.media.values()}
        photo_id, line_id = ids[photo.resolve()], ids[dialogue.resolve()]
        edit_ids: dict[str, str] = {}
        for spec in edits:
            edit = RangeEdit.new(spec["start"], spec["stop"],
                                 photo_id=photo_id if spec["photo"] else None,
                                 audio_id=line_id if spec["dialogue"] else None)
            w.controller.push(AddEdit(w.clip_id, edit))
            edit_ids[spec["case"]] = edit.id
        t0 = time.perf_counter()
        jobs = w.process_edits([edit_ids[s["case"]] for s in edits if s["process"]])
        if not wait(lambda: all((r := w.jobs.record(j)) is not None and r.finished
                                for j in jobs), max(timeout_s, 600.0)):
            raise RuntimeError("processing the edits did not finish")
        for j in jobs:
            record = w.jobs.record(j)
            if record.state != "done":
                raise RuntimeError(f"processing failed: {record.error}")
        setup["process_s"] = time.perf_counter() - t0
        clip_state = w.controller.project.clips[w.clip_id]
        done = [edit_ids[s["case"]] for s in edits if s["process"]]
        wait(lambda: all(w.timeline.state.edits[e].status == "done" for e in done))
        wait(lambda: w.preview.idle() and w.model_set_used != "")  # the models are loaded
        setup["model_set"] = w.model_set_used
        setup["provider"] = w.provider_used

        def scrub_to(case: str, frame: int) -> dict:
            wait(w.preview.idle)
            pause = QEventLoop()
            QTimer.singleShot(30, pause.quit)  # a user's pause between two moves
            pause.exec()
            marks.clear()
            state["target"] = frame
            edit = clip_state.edit_at(frame)
            inside = edit is not None
            stalls.clear()
            last[0] = clock.elapsed()
            ticker.start()
            t0 = time.perf_counter()
            w.timeline.playheadDragged.emit(frame)  # what a drag of the playhead sends
            key = "processed" if inside else "source"
            ok = wait(lambda: marks.get(key) is not None and
                      marks.get(f"painted_{key}") is not None)
            ticker.stop()
            stall = max(stalls, default=0.0)

            def ms(name):
                t = marks.get(name)
                return None if t is None else round((t - t0) * 1000, 1)
            changed = None
            if inside and viewer.processed is not None and viewer.original is not None:
                changed = bool(not np.array_equal(viewer.processed, viewer.original))
            return {"case": case, "frame": frame, "in_edit": inside, "shown": ok,
                    "playhead": w.playhead, "viewer_index": viewer.index,
                    "source_ms": ms("source"), "shown_ms": ms(key),
                    "painted_ms": ms(f"painted_{key}"),
                    "note": marks.get("note") if inside else viewer.status.text(),
                    "picture_changed": changed, "max_stall_ms": round(max(stall, 0.0), 1)}

        for case, frame in warmup:
            scrub_to(case, frame)
        rows = [scrub_to(case, frame) for case, frame in moves]
    finally:
        ticker.stop()
        viewer.canvas.removeEventFilter(watch)
        w.shutdown()
        w.close()
        app.processEvents()
        qInstallMessageHandler(previous)
    return {"setup": setup, "moves": rows}
