"""Sources for the smart-render tests: H.264 with B-frames, HEVC, VFR and rotated clips."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from swaptalk_desktop.media.audio import AudioClip
from swaptalk_desktop.media.colour import (
    COLORSPACE_SMPTE170M,
    ColourSpec,
    planes_to_frame,
    rgb_to_yuv,
)
from swaptalk_desktop.media.mux import AacWriter, mux, open_output

TIME_BASE = Fraction(1, 90_000)
SPEC = ColourSpec(COLORSPACE_SMPTE170M, full_range=False)


def encode_source(path: Path, frames: np.ndarray, *, codec: str = "libx264", fps: int = 25,
                  gop: int = 12, bframes: int | None = 3, open_gop: bool = False,
                  rotation: int = 0, frame_times: list[float] | None = None,
                  audio: AudioClip | None = None) -> Path:
    """Encode RGB ``frames`` with fixed GOPs (closed unless ``open_gop``), like a camera."""
    out = open_output(path, {"comment": "smart render test source"})
    stream = out.add_stream(codec, rate=fps)
    ctx = stream.codec_context
    ctx.height, ctx.width = frames.shape[1:3]
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = stream.time_base = TIME_BASE
    ctx.color_range, ctx.colorspace = 1, COLORSPACE_SMPTE170M
    ctx.color_primaries = ctx.color_trc = 6
    params = f"keyint={gop}:min-keyint={gop}:scenecut=0"
    if bframes is not None:
        params += f":bframes={bframes}"
    if codec == "libx265":
        params += f":open-gop={int(open_gop)}:log-level=error"
        ctx.options = {"preset": "veryfast", "crf": "24", "x265-params": params}
    else:
        params += f":open-gop={int(open_gop)}"
        ctx.options = {"preset": "veryfast", "crf": "20", "x264-params": params}
    if rotation:
        stream.set_display_rotation(-rotation)
    aac = AacWriter(out, audio, 128_000) if audio is not None else None
    for i, rgb in enumerate(frames):
        frame = planes_to_frame(rgb_to_yuv(rgb, SPEC, True), False)
        t = frame_times[i] if frame_times is not None else i / fps
        frame.pts = int(round(t / TIME_BASE))
        frame.time_base = TIME_BASE
        mux(out, stream.encode(frame))
        if aac is not None:
            aac.write_until(t + 0.5)
    mux(out, stream.encode(None))
    if aac is not None:
        aac.finish()
    out.close()
    return path


def video_packets(path: Path) -> list[tuple[int, int, str]]:
    """(pts, dts, sha1 of the data) of every video packet, in decode order."""
    with av.open(str(path)) as c:
        return [(p.pts, p.dts, hashlib.sha1(bytes(p)).hexdigest())
                for p in c.demux(c.streams.video[0]) if p.size]


def tone(seconds: float, rate: int = 48_000) -> AudioClip:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[:, None]
    return AudioClip(samples=np.repeat(mono, 2, axis=1), sample_rate=rate, path=None)
