"""Screenshots of the editor for the README, made from generated / public-domain material only.

Run through scripts/screenshots.sh (starts a virtual X server). The clip is NASA's astronaut
portrait (public domain) drifting over a gradient with a speech-like sound track, the new face
is Rear Admiral Grace Hopper's US Navy portrait (public domain), the dialogue is synthetic; the
model set is the default (shipped) set. User folders (settings, caches, autosaves) point
into a temporary folder, so nothing of the user's appears and nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1440, 900)


def isolate(folder: Path) -> None:
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config")):
        os.environ[var] = str(folder / sub)
    os.environ["SWAPTALK_CACHE_DIR"] = str(folder / "cache" / "swaptalk-desktop")
    os.environ.pop("SWAPTALK_MODELS_DIR", None)
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def make_material(folder: Path):
    """The demo's photo and spoken line, and the moving astronaut talking over a sound track
    made of that line (so the waveform shows phrases and pauses)."""
    import numpy as np

    from swaptalk_desktop.eval.demo_assets import FPS, make_demo_inputs
    from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
    from swaptalk_desktop.media import AudioClip, load_audio, make_test_clip

    demo = make_demo_inputs(folder / "demo")
    n = 8 * FPS
    frames = moving_face_frames(n, 640, 480, face_height=0.95)
    speech = load_audio(demo.dialogue)
    rate = speech.sample_rate
    track = np.zeros(int(rate * n / FPS), np.float32)
    voice = speech.samples[:, 0] * 0.8
    for at in (0.3, 0.3 + speech.duration_s + 0.6, 0.3 + 2 * (speech.duration_s + 0.6)):
        a = int(at * rate)
        b = min(track.size, a + voice.size)
        if a < b:
            track[a:b] += voice[: b - a]
    audio = AudioClip(np.repeat(track[:, None], 2, axis=1), rate, None)
    clip = make_test_clip(folder / "interview_take2.mp4", frames, fps=FPS, audio=audio)
    return clip, demo.photo, demo.dialogue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="swaptalk-shots-"))
    isolate(work)

    from PySide6.QtWidgets import QApplication

    from swaptalk_desktop.ui.app import create_window
    from swaptalk_desktop.ui.export_dialog import ExportDialog

    app, w = create_window(["--no-recovery"])
    w.ask_before_closing = False
    w.resize(*SIZE)
    w.move(0, 0)
    w.show()

    def settle(seconds: float = 0.6) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait(cond, what: str, timeout: float = 300.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise SystemExit(f"timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str, widget=None) -> None:
        settle()
        target = args.out / f"{name}.png"
        screen = QApplication.primaryScreen()
        picture = screen.grabWindow(0, 0, 0, *SIZE) if widget is None else widget.grab()
        picture.save(str(target))
        print(f"wrote {target}")

    wait(lambda: w.model_set_used, "the models to load")
    shot("01_empty")

    clip, photo, line = make_material(work)
    w.import_files([clip, photo, line])
    wait(lambda: w.info is not None and len(w.controller.project.media) == 3, "the import")
    wait(lambda: w.waveform is not None, "the waveform")
    fps = round(float(w.info.nominal_fps))
    start, stop = fps + 5, 4 * fps
    w.seek(start)
    w.mark_in()
    w.seek(stop - 1)
    w.mark_out()
    w.seek(2 * fps + 10)
    wait(lambda: len(w.media_bin._icons) == 3, "the thumbnails", 60)
    wait(lambda: w.viewer.original is not None, "the frame")
    w.viewer.set_mode("original")
    shot("02_clip_with_marks")

    w.add_edit()
    w.controller.project.clips[w.clip_id].edits[0].label = "Line 7"
    w.inspector.label.setText("Line 7")
    w.inspector.label.editingFinished.emit()
    w.process_selected()
    job = w.jobs.records()[-1]
    wait(lambda: w.jobs.record(job.id).finished, "processing")
    w.viewer.set_mode("split")
    w.viewer.canvas.set_divider(0.52)
    index = (start + stop) // 2
    w.seek(index)
    wait(lambda: w.viewer.processed_index == index, "the processed frame")
    shot("03_ab_preview")

    w.acts.export.trigger()
    dialog = w.findChild(ExportDialog)
    wait(lambda: dialog.isVisible(), "the export dialog")
    dialog.output.setText("~/Videos/interview_take2_dub.mp4")
    dialog.adjustSize()
    geo = w.frameGeometry()
    dialog.move(geo.center().x() - dialog.width() // 2, geo.center().y() - dialog.height() // 2)
    dialog.raise_()
    dialog.activateWindow()
    shot("04_export_dialog")
    dialog.reject()
    w.shutdown()
    app.processEvents()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
