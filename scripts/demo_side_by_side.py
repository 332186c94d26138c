"""The model card's demo picture: the identity photo, then the demo clip's face before (top)
and after (bottom) at four frames of the edited range, chosen from closed to open mouths.

    .venv/bin/swaptalk demo -o /tmp/demo && .venv/bin/python scripts/demo_side_by_side.py \
        /tmp/demo docs/images/swaptalk-small-v2-demo.jpg

Public-domain material only: NASA's astronaut portrait and Grace Hopper's (US Navy).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from swaptalk_desktop.engine.frames import mouth_opening
from swaptalk_desktop.faces import default_landmarker
from swaptalk_desktop.media import VideoReader, probe_video

TILE = (200, 220)


def main(folder: Path, out: Path) -> None:
    meta = __import__("json").loads((folder / "demo_result.mp4.swaptalk.json").read_text())
    start, stop = meta["edits"][0]["frames"]
    landmarker = default_landmarker()
    photo = cv2.cvtColor(cv2.imread(str(folder / "identity_grace_hopper.jpg")), cv2.COLOR_BGR2RGB)
    with VideoReader(probe_video(folder / "sample_clip.mp4")) as ra, \
            VideoReader(probe_video(folder / "demo_result.mp4")) as rb:
        frames = [(i, ra.frame(i), rb.frame(i)) for i in range(start + 5, stop - 5, 2)]
    scored = []
    for i, before, after in frames:
        found = landmarker.detect(after)
        if found:
            face = max(found, key=lambda d: d.area)
            scored.append((mouth_opening(face.landmarks), i, before, after, face))
    scored.sort(key=lambda s: s[0])
    picks = [scored[int(k)] for k in np.linspace(0, len(scored) - 1, 4).round()]
    picks.sort(key=lambda s: s[1])
    found = landmarker.detect(photo)
    top, bottom = [_box(photo, max(found, key=lambda d: d.area))], []
    bottom.append(np.full_like(top[0], 255))
    for _, _, before, after, face in picks:
        top.append(_box(before, face))
        bottom.append(_box(after, face))
    image = np.concatenate([np.concatenate(top, 1), np.concatenate(bottom, 1)], 0)
    cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {out}: frames {[p[1] for p in picks]}, mouth openings "
          f"{[round(p[0], 3) for p in picks]}")


def _box(rgb: np.ndarray, face) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in face.bbox)
    cx, cy, h = (x0 + x1) // 2, (y0 + y1) // 2, int((y1 - y0) * 0.8)
    w = int(h * 0.9)
    crop = rgb[max(0, cy - h):cy + h, max(0, cx - w):cx + w]
    return cv2.resize(crop, TILE, interpolation=cv2.INTER_AREA)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
