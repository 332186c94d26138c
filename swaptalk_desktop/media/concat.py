"""Join MP4 files written by :func:`.encode.write_clip` into one MP4, one after another.

The H.264 packets are re-muxed, never re-encoded: each part's timestamps are moved to where
the part before it ends, so every frame of every part is in the output bit for bit. That needs
parts of one size, frame rate and encoding (the same stream parameters); :func:`check_joinable`
says which part differs and how. The sound is decoded from each part, fitted to the exact
length of its picture (silence where a part has none), and encoded once to AAC, so picture
and sound stay together at every join. The output appears complete or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError, OutputError
from .audio import AudioClip, load_audio, resample
from .container import open_input
from .mux import AacWriter, closed_on_failure, mux, open_output
from .probe import VideoInfo, probe_video

log = logging.getLogger(__name__)

_AUDIO_LEAD_S = 0.5
DEFAULT_AUDIO_RATE = 48_000


@dataclass(frozen=True)
class JoinedFile:
    output: Path
    frames: int
    duration_s: float
    part_starts_s: tuple[float, ...]
    """Where each part starts in the output, in seconds."""


def _describe(info: VideoInfo) -> str:
    fps = info.fps
    rate = f"{float(fps):.3f}".rstrip("0").rstrip(".")
    return f"{info.width}×{info.height} at {rate} fps"


def check_joinable(infos: list[VideoInfo], names: list[str] | None = None) -> None:
    """InputError naming the first part that differs from the first in size or frame rate."""
    names = names or [i.path.name for i in infos]
    first = infos[0]
    for info, name in zip(infos[1:], names[1:], strict=True):
        if (info.width, info.height) != (first.width, first.height) or info.fps != first.fps:
            raise InputError(f"{name} is {_describe(info)} but {names[0]} is "
                             f"{_describe(first)}; a sequence exports clips of one size and "
                             "frame rate, so convert it or take it out of the sequence")


def _stream_params(path: Path) -> tuple:
    with open_input(path, "a video file") as c:
        s = c.streams.video[0]
        ctx = s.codec_context
        return (s.codec_context.name, ctx.width, ctx.height, str(ctx.pix_fmt),
                bytes(ctx.extradata or b""))


def _part_audio(info: VideoInfo, duration_s: float, rate: int, channels: int) -> np.ndarray:
    """The part's sound as ``[n, channels]`` at ``rate``, exactly ``duration_s`` long, sample 0
    where its first frame is shown."""
    n = int(round(duration_s * rate))
    if info.audio is None:
        return np.zeros((n, channels), np.float32)
    clip = resample(load_audio(info.path), rate, channels)
    lead = int(round((info.audio.start_s - info.start_s) * rate))
    samples = clip.samples
    if lead > 0:
        samples = np.concatenate([np.zeros((lead, channels), np.float32), samples])
    elif lead < 0:
        samples = samples[-lead:]
    if samples.shape[0] < n:
        samples = np.concatenate([samples, np.zeros((n - samples.shape[0], channels),
                                                    np.float32)])
    return samples[:n]


def join_mp4(parts: list[Path], output: Path | str, *, metadata: dict[str, str] | None = None,
             audio: bool = True, audio_bitrate: int = 192_000,
             cancel: CancelToken = NEVER, progress=None) -> JoinedFile:
    """Write ``parts`` one after another to ``output`` (atomic). ``audio=False`` writes no
    sound; otherwise the output has sound when any part has. ``progress(done, total)`` counts
    video packets."""
    output = Path(output)
    if not parts:
        raise ValueError("nothing to join")
    infos = [probe_video(p) for p in parts]
    check_joinable(infos)
    params = [_stream_params(p) for p in parts]
    for path, p in zip(parts[1:], params[1:], strict=True):
        if p != params[0]:
            raise OutputError(f"the parts of the sequence were encoded differently ({path.name}"
                              " differs from the first: colour tags or encoder); export the "
                              "clips with one encoder and colour format")
    with_audio = audio and any(i.audio is not None for i in infos)
    rate = channels = 0
    if with_audio:
        heard = [i.audio for i in infos if i.audio is not None]
        rate = heard[0].sample_rate or DEFAULT_AUDIO_RATE
        channels = max(a.channels or 1 for a in heard)
    total = sum(i.frame_count for i in infos)
    done = 0
    starts: list[float] = []
    with atomic_path(output) as tmp:
        out = open_output(tmp, metadata)
        with closed_on_failure(out, f"could not join the sequence into {output.name}"):
            with open_input(parts[0], "a video file") as first:
                template = first.streams.video[0]
                vout = out.add_stream_from_template(template)
                tb = Fraction(template.time_base)
            vout.time_base = tb
            chunks: list[np.ndarray] = []
            offset = 0  # where the next part starts, in tb
            last_dts: int | None = None
            aac: AacWriter | None = None
            if with_audio:
                durations = [_part_duration(i, tb) * tb for i in infos]
                for info, d in zip(infos, durations, strict=True):
                    chunks.append(_part_audio(info, float(d), rate, channels))
                aac = AacWriter(out, AudioClip(np.concatenate(chunks), rate), audio_bitrate)
            for info, path in zip(infos, parts, strict=True):
                starts.append(float(offset * tb))
                length = _part_duration(info, tb)
                with open_input(path, "a video file") as source:
                    stream = source.streams.video[0]
                    scale = Fraction(stream.time_base) / tb
                    first_pts = None
                    delta = 0
                    for packet in source.demux(stream):
                        if packet.dts is None or packet.size == 0:
                            continue
                        cancel.raise_if_cancelled()
                        pts = int(packet.pts * scale) if packet.pts is not None else None
                        dts = int(packet.dts * scale)
                        if first_pts is None:
                            first_pts = int(info.pts[0] * Fraction(info.time_base) / tb)
                            delta = offset - first_pts
                            if last_dts is not None and dts + delta <= last_dts:
                                delta = last_dts + 1 - dts  # decode order stays increasing
                        packet.pts = None if pts is None else pts + delta
                        packet.dts = dts + delta
                        if packet.duration:
                            packet.duration = int(packet.duration * scale)
                        packet.time_base = tb
                        packet.stream = vout
                        last_dts = packet.dts
                        mux(out, [packet])
                        if aac is not None and packet.pts is not None:
                            aac.write_until(float(packet.pts * tb) + _AUDIO_LEAD_S)
                        done += 1
                        if progress is not None:
                            progress(min(done, total), total)
                offset += length
            if aac is not None:
                aac.finish()
            out.close()
    return JoinedFile(output, total, float(offset * tb), tuple(starts))


def _part_duration(info: VideoInfo, tb: Fraction) -> int:
    """The part's picture length in ``tb``: from its first frame to the end of its last."""
    src_tb = Fraction(info.time_base)
    pts = info.pts
    if len(pts) > 1:
        last_step = int(pts[-1] - pts[-2])
    else:
        last_step = int(round(1 / (Fraction(info.fps) * src_tb))) if info.fps else 1
    span = int(pts[-1] - pts[0]) + last_step
    return int(round(span * src_tb / tb))


