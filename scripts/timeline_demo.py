"""Show the timeline with synthetic material, for a look and a feel of its gestures.

    python scripts/timeline_demo.py                   # a window; signals are printed
    python scripts/timeline_demo.py --screenshot t.png --zoom 400:900
        # offscreen: waits for pictures and waveforms, saves a grab and exits

Pictures are the public-domain astronaut drifting (eval/synthetic_clip.py) in four "shots";
the clip audio and the replacement line are noise shaped like syllables and pauses. The
thumbnail source sleeps a little per picture, like a real decoder, so their arrival shows.
"""

from __future__ import annotations

import argparse
import colorsys
import sys
import time

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from swaptalk_desktop.eval.synthetic_clip import moving_face_frames
from swaptalk_desktop.media.waveform import WaveformPyramid
from swaptalk_desktop.ui.timeline import EditView, TimelineWidget

FPS = 25
FRAMES = 2400
RATE = 16000
EDIT_COLORS = ("#5b8fd1", "#b07cc6", "#5fae9e", "#c9925a")


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Noise in syllable-sized bursts grouped into phrases with pauses between them."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    envelope = np.zeros(n, np.float32)
    t = 0.3
    while t < seconds - 0.5:
        phrase_end = min(seconds, t + rng.uniform(1.2, 4.0))
        level = rng.uniform(0.35, 0.8)
        while t < phrase_end:
            length = rng.uniform(0.08, 0.25)
            i0, i1 = int(t * RATE), min(n, int((t + length) * RATE))
            envelope[i0:i1] = level * rng.uniform(0.4, 1.0) * np.hanning(i1 - i0)
            t += length + rng.uniform(0.01, 0.08)
        t += rng.uniform(0.4, 1.5)
    return (rng.standard_normal(n).astype(np.float32) * envelope * 0.6).clip(-1, 1)


class DemoThumbs:
    def __init__(self) -> None:
        self.base = moving_face_frames(48, 176, 99)

    def __call__(self, frames: list[int], height: int) -> list[np.ndarray]:
        import cv2
        pictures = []
        for frame in frames:
            time.sleep(0.01)  # a real decoder takes a while
            picture = self.base[(frame // 4) % len(self.base)].astype(np.float32)
            r, g, b = colorsys.hsv_to_rgb(((frame // 600) * 0.23) % 1.0, 0.35, 1.0)
            picture *= np.array([r, g, b], np.float32)
            width = round(height * picture.shape[1] / picture.shape[0])
            pictures.append(cv2.resize(picture.clip(0, 255).astype(np.uint8), (width, height),
                                       interpolation=cv2.INTER_AREA))
        return pictures


def build(widget: TimelineWidget) -> None:
    clip_audio = WaveformPyramid.from_samples(speech_like(FRAMES / FPS, 1), RATE)
    line = WaveformPyramid.from_samples(speech_like(3.6, 7), RATE)
    widget.set_clip(FRAMES, FPS, None, clip_audio, DemoThumbs())
    edits = [EditView("a", 120, 310, EDIT_COLORS[0], "done", 1.0, "Line 1 · hopper.jpg"),
             EditView("b", 520, 640, EDIT_COLORS[1], "running", 0.42, "Line 2 · retake"),
             EditView("c", 700, 790, EDIT_COLORS[2], "partial", 0.6, "Line 3"),
             EditView("d", 1500, 1720, EDIT_COLORS[3], "none", 0.0, "Line 4")]
    widget.set_edits(edits)
    widget.select_edit("b")
    widget.set_replacement_waveform("b", line, -0.32)
    widget.set_marks(500, 660)
    widget.set_playhead(574)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", help="save an offscreen grab here and exit")
    parser.add_argument("--zoom", default="", help="visible frames FIRST:LAST")
    parser.add_argument("--size", default="1280x300", help="window size WxH")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        from swaptalk_desktop.ui.style import dark_palette
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    except ImportError:
        pass
    widget = TimelineWidget()
    width, height = (int(v) for v in args.size.split("x"))
    widget.resize(width, height)
    widget.setWindowTitle("SwapTalk timeline demo")
    for name in ("playheadDragged", "seekRequested", "editSelected", "editDragged",
                 "offsetDragged", "marksChanged"):
        getattr(widget, name).connect(lambda *a, n=name: print(n, *a))
    # the demo plays the app's part: accept every gesture
    widget.seekRequested.connect(widget.set_playhead)
    widget.editSelected.connect(widget.select_edit)
    widget.show()
    build(widget)
    if args.zoom:
        first, last = (float(v) for v in args.zoom.split(":"))
        widget._show_range(first, last)
    if not args.screenshot:
        return app.exec()

    deadline = time.monotonic() + 20

    def grab_when_ready() -> None:
        thumbs = widget._thumb_item
        x0, x1 = widget.visible_range()
        extent = widget._dialogue_item.extent
        dialogue_in_view = extent is not None and extent[0] < x1 and extent[1] > x0
        ready = (thumbs.slots and all(f in thumbs.images for f in thumbs.slots)
                 and widget._audio_item.envelope is not None
                 and (widget._dialogue_item.envelope is not None or not dialogue_in_view))
        if ready or time.monotonic() > deadline:
            widget.grab().save(args.screenshot)
            print("saved", args.screenshot, "(complete)" if ready else "(timed out)")
            app.quit()
        else:
            QTimer.singleShot(50, grab_when_ready)

    QTimer.singleShot(50, grab_when_ready)
    app.exec()
    widget.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
