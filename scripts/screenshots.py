"""Screenshots of the editor for the README, made from generated / public-domain material only.

Run through scripts/screenshots.sh (starts a virtual X server). The clip is NASA's astronaut
portrait (public domain) drifting over a gradient with a speech-like sound track, the new face
is Rear Admiral Grace Hopper's US Navy portrait (public domain), the dialogue is synthetic; two
more takes of the same material (other paths, lengths and sizes of the face, the same frame size
and rate) make the three-clip sequence of the last screenshot. The model set is the default
(shipped) set. User folders (settings, caches, autosaves) point
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
MAX_BYTES = 400_000


def shrink(path: Path) -> None:
    """A screenshot over MAX_BYTES with fewer bits per colour channel (6, then 5): the PNG
    compresses the photos' noise better, the UI's flat colours barely move, and unlike a
    256-colour palette the faces keep their tones."""
    if path.stat().st_size <= MAX_BYTES:
        return
    from PIL import Image, ImageOps
    with Image.open(path) as picture:
        rgb = picture.convert("RGB")
    for bits in (6, 5):
        ImageOps.posterize(rgb, bits).save(path, optimize=True)
        if path.stat().st_size <= MAX_BYTES:
            return


def isolate(folder: Path) -> None:
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config")):
        os.environ[var] = str(folder / sub)
    os.environ["SWAPTALK_CACHE_DIR"] = str(folder / "cache" / "swaptalk-desktop")
    os.environ.pop("SWAPTALK_MODELS_DIR", None)
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def talking_clip(path: Path, speech, seconds: int, seed: int = 0, face_height: float = 0.95,
                 starts: tuple[float, ...] = (0.3,)):
    """The moving astronaut (seed: its path) over a sound track of the spoken line at
    ``starts`` (so the waveform shows phrases and pauses); 640x480 at the demo's frame rate,
    as every clip of the sequence."""
    import numpy as np

    from swaptalk_desktop.eval.demo_assets import FPS
    from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
    from swaptalk_desktop.media import AudioClip, make_test_clip

    n = seconds * FPS
    frames = moving_face_frames(n, 640, 480, face_height=face_height, seed=seed)
    rate = speech.sample_rate
    track = np.zeros(int(rate * n / FPS), np.float32)
    voice = speech.samples[:, 0] * 0.8
    for at in starts:
        a = int(at * rate)
        b = min(track.size, a + voice.size)
        if a < b:
            track[a:b] += voice[: b - a]
    audio = AudioClip(np.repeat(track[:, None], 2, axis=1), rate, None)
    return make_test_clip(path, frames, fps=FPS, audio=audio)


def make_material(folder: Path):
    """The demo's photo and spoken line, and the moving astronaut talking over a sound track
    made of that line three times."""
    from swaptalk_desktop.eval.demo_assets import make_demo_inputs
    from swaptalk_desktop.media import load_audio

    demo = make_demo_inputs(folder / "demo")
    speech = load_audio(demo.dialogue)
    gap = speech.duration_s + 0.6
    clip = talking_clip(folder / "interview_take2.mp4", speech, 8,
                        starts=(0.3, 0.3 + gap, 0.3 + 2 * gap))
    return clip, demo.photo, demo.dialogue, speech


def more_clips(folder: Path, speech):
    """Two more takes of the same material (other paths and lengths) for the sequence."""
    gap = speech.duration_s + 0.4
    return [talking_clip(folder / "interview_take3.mp4", speech, 6, seed=1, face_height=0.85,
                         starts=(0.5, 0.5 + gap)),
            talking_clip(folder / "reaction_take1.mp4", speech, 5, seed=2, face_height=0.9,
                         starts=(0.2,))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="swaptalk-shots-"))
    isolate(work)

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from swaptalk_desktop.core.commands import AddMarker
    from swaptalk_desktop.core.project import Marker
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

    def thumbnails_shown() -> bool:
        item = w.timeline._thumb_item
        return w.info is None or bool(item.slots) and all(f in item.images for f in item.slots)

    def open_clip(path: Path) -> None:
        media = next(m for m in w.controller.project.media.values() if m.path == path.resolve())
        w.open_clip(media.id)
        wait(lambda: w.clip_id == media.id and w.info is not None, f"{path.name} to open")
        wait(lambda: w.waveform is not None, f"the waveform of {path.name}")

    def process(edit_id: str, what: str) -> None:
        w.select_edit(edit_id)
        w.process_selected()
        job = w.jobs.records()[-1]
        wait(lambda: w.jobs.record(job.id).finished, what)

    def shot(name: str, widget=None) -> None:
        settle()
        wait(thumbnails_shown, "the timeline's thumbnails", 60)
        settle(0.3)
        target = args.out / f"{name}.png"
        screen = QApplication.primaryScreen()
        picture = screen.grabWindow(0, 0, 0, *SIZE) if widget is None else widget.grab()
        picture.save(str(target))
        shrink(target)
        print(f"wrote {target}")

    wait(lambda: w.model_set_used, "the models to load")
    shot("01_empty")

    clip, photo, line, speech = make_material(work)
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
    process(w.controller.project.clips[w.clip_id].edits[0].id, "processing")
    w.viewer.set_mode("split")
    w.viewer.canvas.set_divider(0.41)  # just left of the face: all of the new face shows
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
    settle()

    # a sequence of three takes with markers, edits on two of them
    project = w.controller.project
    first = w.clip_id
    for frame, name, color in ((12, "Slate", "blue"), (150, "Pickup line", "orange")):
        w.controller.push(AddMarker(first, Marker.new(frame, name=name, color=color)))
    take3, reaction = more_clips(work, speech)
    w.import_files([take3, reaction])
    wait(lambda: len(project.media) == 5, "the second import")
    open_clip(take3)
    w.controller.push(AddMarker(w.clip_id, Marker.new(2 * fps, name="Best take", color="green")))
    w.seek(fps // 2)
    w.mark_in()
    w.seek(5 * fps + 10)
    w.mark_out()
    w.sequence_trim_to_marks()
    w.clear_marks()
    open_clip(reaction)
    clip3 = project.clips[w.clip_id]
    for frame, name, color in ((8, "Cut in", "blue"), (int(1.2 * fps), "Line 12 starts", "red"),
                               (int(3.9 * fps), "Breath: trim?", "yellow"),
                               (int(4.6 * fps), "Cut out", "purple")):
        w.controller.push(AddMarker(w.clip_id, Marker.new(frame, name=name, color=color)))
    w.seek(int(1.2 * fps))
    w.mark_in()
    w.seek(int(3.6 * fps))
    w.mark_out()
    w.add_edit()
    edit = clip3.edits[0]
    w.inspector.label.setText("Line 12")
    w.inspector.label.editingFinished.emit()
    process(edit.id, "processing the second edit")
    w.clear_marks()
    w.select_edit(edit.id)
    w.viewer.set_mode("processed")
    index = int(2.4 * fps)
    w.seek(index)
    wait(lambda: w.viewer.processed_index == index, "the processed frame of the third clip")
    w.sequence_dock.raise_()
    media_dock, jobs_dock = w.docks[0], w.docks[3]  # room for the five media items
    w.resizeDocks([media_dock, jobs_dock], [400, 200], Qt.Orientation.Vertical)
    w.sequence_panel.select(project.sequence[-1].id)
    wait(lambda: w.sequence_strip.isVisible(), "the sequence strip")
    shot("05_sequence_markers")
    w.shutdown()
    app.processEvents()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
