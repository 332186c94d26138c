"""Write the output clip: the source with a range of frames replaced, as H.264/AAC in MP4.

Frames outside the edited range are handed to the encoder as the decoder's own YUV planes
(rotated upright if needed), never through RGB, so a lossless encode reproduces them bit for
bit. Inside the range only the pixels the callback changed are converted back to YUV; the rest
keep their decoded values, which avoids even the rounding of an RGB round trip.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import av
import av.error
import numpy as np

from ..core.atomic import atomic_path, check_writable_dir
from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError, OutputError
from .audio import AudioClip, load_audio
from .colour import (
    _KR_KB,
    COLORSPACE_SMPTE170M,
    COLORSPACE_UNSPECIFIED,
    RANGE_JPEG,
    RANGE_MPEG,
    ColourSpec,
    YuvPlanes,
    frame_planes,
    planes_to_frame,
    rgb_to_yuv,
    rotate_planes,
    to_chroma_format,
    yuv_to_rgb,
)
from .container import frame_timestamp, open_input
from .decode import VideoReader
from .encoders import EncodeSettings, available_video_encoders, encoder_pix_fmt
from .mux import (
    AacWriter,
    ColourTags,
    add_video_stream,
    closed_on_failure,
    mux,
    open_output,
    replaced,
)
from .probe import VideoInfo
from .smart_render import SmartFallback, WriteReport, plan, write_smart

log = logging.getLogger(__name__)

ReplaceFrame = Callable[[int, np.ndarray], np.ndarray]
Progress = Callable[[int, int], None]
# Encoded audio runs this far ahead of the video so the muxer always has both to interleave.
_AUDIO_LEAD_S = 0.5


def write_clip(src: VideoInfo, dst: Path | str, *,
               replace_range: tuple[int, int] | None = None,
               replace_frame: ReplaceFrame | None = None,
               audio: AudioClip | Literal["copy"] | None = "copy",
               settings: EncodeSettings | None = None,
               metadata: dict[str, str] | None = None,
               progress: Progress | None = None,
               cancel: CancelToken | None = None,
               span: tuple[int, int] | None = None, smart: bool = False,
               edit_ranges: list[tuple[int, int]] | None = None,
               audio_changes: list[tuple[float, float]] | None = None) -> WriteReport:
    """Encode ``src`` to ``dst`` with frames ``[start, stop)`` replaced by ``replace_frame``.

    ``span=(a, b)`` writes only frames ``a .. b-1`` (a marked range exported as its own file):
    the first written frame is at time 0 and the sound is cut to the same span (copied sound is
    then decoded and re-encoded, since AAC packets cannot be cut at a frame).

    ``replace_frame(index, rgb)`` gets the upright RGB frame and returns an RGB frame of the
    same shape. ``audio``: ``"copy"`` remuxes the source's audio packets untouched, an
    :class:`AudioClip` is encoded to AAC with sample 0 where the source's audio starts (where
    its first frame is shown when it has none), ``None`` writes no audio. Timestamps, frame
    count, display size and colour tags follow the source; rotated sources come out upright.
    ``dst`` appears complete or not at all, and is never the source itself.

    ``smart=True`` copies the source's packets wherever a whole GOP holds no frame of
    ``edit_ranges`` (default: the replace range) and re-encodes only the GOPs that do
    (:mod:`.smart_render`; the stream keeps the source's codec, orientation and timestamps);
    where that cannot be done the full encode runs and the report says why. With
    ``audio_changes`` (seconds on the sound's clock where an :class:`AudioClip` ``audio``
    differs from the source's sound) a smart render also copies the source's AAC packets away
    from those stretches.
    """
    settings = settings or EncodeSettings()
    cancel = cancel or NEVER
    dst = Path(dst)
    n = src.frame_count
    if span is not None:
        if not 0 <= span[0] < span[1] <= n:
            raise ValueError(f"span {span} is outside 0..{n}")
        if span == (0, n):
            span = None
    start, stop = replace_range if replace_range is not None else (0, 0)
    if not 0 <= start <= stop <= n:
        raise ValueError(f"replace_range {replace_range} is outside 0..{n}")
    if stop > start and replace_frame is None:
        raise ValueError("replace_frame is needed when replace_range is not empty")
    if not (audio is None or audio == "copy" or isinstance(audio, AudioClip)):
        raise TypeError("audio must be an AudioClip, 'copy' or None")
    _refuse_source_overwrite(src.path, dst)
    if dst.is_dir():
        raise OutputError(f"cannot write {dst}: it is a folder; choose a file name")
    check_writable_dir(dst)
    if settings.video_codec not in available_video_encoders():
        raise OutputError(f"the {settings.video_codec} encoder does not work on this machine; "
                          f"choose one of {', '.join(available_video_encoders())}")

    chroma_420 = src.width % 2 == 0 and src.height % 2 == 0
    if not chroma_420:
        log.warning("%s is %dx%d; odd sizes cannot be 4:2:0, writing 4:4:4 H.264 (some "
                    "players cannot show it)", src.name, src.width, src.height)
    job = _Job(src, settings, chroma_420, replace_frame, start, stop)
    reason = None
    if smart:
        ranges = edit_ranges if edit_ranges is not None else (
            [(start, stop)] if stop > start else [])
        try:
            return _write_smart(src, dst, ranges, replace_frame, audio, settings, metadata,
                                progress, cancel, span, audio_changes)
        except SmartFallback as err:
            reason = str(err)
            log.info("%s: full encode, since %s", src.name, reason)
    sound = "none" if audio is None or (audio == "copy" and src.audio is None) else (
        "copied" if audio == "copy" and span is None else "encoded")
    report = WriteReport("full", reason, 0, (span[1] - span[0]) if span else n,
                         ((span or (0, n)),), sound)
    if span is not None:
        _write_span(src, dst, span, job, settings, chroma_420, audio, metadata, progress,
                    cancel)
        return report

    with open_input(src.path, "a video file") as source, atomic_path(dst) as tmp:
        vin = _stream(source, src.stream_index)
        vin.thread_type = "AUTO"
        ain = _stream(source, src.audio.stream_index) if (
            audio == "copy" and src.audio is not None) else None
        out = open_output(tmp, metadata)
        with closed_on_failure(out, f"could not encode {dst.name}"):
            vout = add_video_stream(out, settings, width=src.width, height=src.height,
                                    time_base=src.time_base, rate=src.stream_rate,
                                    tags=job.tags, chroma_420=chroma_420)
            aout = out.add_stream_from_template(ain) if ain is not None else None
            aac = None
            if isinstance(audio, AudioClip):
                audio_start = src.audio.start_s if src.audio is not None else src.start_s
                aac = AacWriter(out, audio, settings.audio_bitrate, start_s=audio_start)
            streams = [vin] if ain is None else [vin, ain]
            done = 0
            for packet in _demux(source, streams, src):
                if packet.stream.type == "audio":
                    if packet.size and packet.dts is not None:
                        packet.stream = aout
                        mux(out, [packet])
                    continue
                for index, frame in _decode(vin, packet, src, done):
                    cancel.raise_if_cancelled()
                    mux(out, vout.encode(job.output_frame(index, frame)))
                    if aac is not None:
                        aac.write_until(float(src.pts[index] * src.time_base) + _AUDIO_LEAD_S)
                    done += 1
                    if progress is not None:
                        progress(done, n)
            if done != n:
                raise InputError(f"{src.name}: only {done} of {n} frames could be decoded (the "
                                 "file is damaged or changed since it was opened); re-open it")
            mux(out, vout.encode(None))
            if aac is not None:
                aac.finish()
            out.close()  # writes the index and moves it to the front (faststart)
    return report


def _write_smart(src: VideoInfo, dst: Path, ranges: list[tuple[int, int]],
                 replace_frame: ReplaceFrame | None, audio: AudioClip | Literal["copy"] | None,
                 settings: EncodeSettings, metadata: dict[str, str] | None,
                 progress: Progress | None, cancel: CancelToken,
                 span: tuple[int, int] | None,
                 audio_changes: list[tuple[float, float]] | None) -> WriteReport:
    smart = plan(src, settings, ranges, span)  # SmartFallback before any output exists
    if span is not None:
        sound, start_s = _span_audio(src, span, audio), 0.0
    else:
        sound = audio
        start_s = src.audio.start_s if src.audio is not None else src.start_s
    spec = src.colour
    with atomic_path(dst) as tmp:
        return write_smart(src, tmp, smart, ranges=ranges, replace_frame=replace_frame,
                           merge=lambda planes, old, new: merge_edit(planes, old, new, spec),
                           audio=sound, audio_start_s=start_s, settings=settings,
                           metadata=metadata, progress=progress, cancel=cancel, span=span,
                           audio_changes=audio_changes if span is None else None)


def _write_span(src: VideoInfo, dst: Path, span: tuple[int, int], job: _Job,
                settings: EncodeSettings, chroma_420: bool,
                audio: AudioClip | Literal["copy"] | None, metadata: dict[str, str] | None,
                progress: Progress | None, cancel: CancelToken) -> None:
    a, b = span
    job.pts_offset = int(src.pts[a])
    sound = _span_audio(src, span, audio)
    with atomic_path(dst) as tmp, VideoReader(src) as reader:
        out = open_output(tmp, metadata)
        with closed_on_failure(out, f"could not encode {dst.name}"):
            vout = add_video_stream(out, settings, width=src.width, height=src.height,
                                    time_base=src.time_base, rate=src.stream_rate,
                                    tags=job.tags, chroma_420=chroma_420)
            aac = AacWriter(out, sound, settings.audio_bitrate) if sound is not None else None
            done = 0
            for index, frame in reader.read_decoded(a, b):
                cancel.raise_if_cancelled()
                mux(out, vout.encode(job.output_frame(index, frame)))
                if aac is not None:
                    at = float((src.pts[index] - job.pts_offset) * src.time_base)
                    aac.write_until(at + _AUDIO_LEAD_S)
                done += 1
                if progress is not None:
                    progress(done, b - a)
            mux(out, vout.encode(None))
            if aac is not None:
                aac.finish()
            out.close()


def _span_audio(src: VideoInfo, span: tuple[int, int],
                audio: AudioClip | Literal["copy"] | None) -> AudioClip | None:
    """The sound under frames ``a .. b-1``, starting with frame ``a``."""
    if audio is None or (audio == "copy" and src.audio is None):
        return None
    track = load_audio(src.path) if audio == "copy" else audio
    a, b = span
    t0 = src.audio_time(a)
    t1 = src.audio_time(b) if b < src.frame_count else src.audio_time(0) + src.duration_s
    if audio != "copy" and src.audio is None:
        # an AudioClip for a clip without sound starts where its first frame is shown
        t0, t1 = t0 - src.audio_time(0), t1 - src.audio_time(0)
    rate = track.sample_rate
    lo, hi = max(0, int(round(t0 * rate))), max(0, int(round(t1 * rate)))
    samples = track.samples[lo:hi]
    if samples.shape[0] < hi - lo:  # the sound ends before the span: pad with silence
        pad = np.zeros((hi - lo - samples.shape[0], track.channels), np.float32)
        samples = np.concatenate([samples, pad])
    return AudioClip(samples=samples, sample_rate=rate, path=track.path)


def _refuse_source_overwrite(source: Path, dst: Path) -> None:
    same = dst.resolve() == source.resolve()
    if not same and dst.exists():
        with contextlib.suppress(OSError):
            same = os.path.samefile(dst, source)
    if same:
        raise OutputError(f"{dst.name} is the source clip; choose another output file (the "
                          "source is never overwritten)")




def _stream(container: av.container.InputContainer, index: int) -> av.stream.Stream:
    return next(s for s in container.streams if s.index == index)


def _demux(source: av.container.InputContainer, streams: list[av.stream.Stream],
           src: VideoInfo) -> Iterator[av.Packet]:
    try:
        yield from source.demux(streams)
    except av.error.FFmpegError as err:
        raise InputError(f"{src.name} could not be read ({err}); re-export it from your "
                         "editor") from err


def _decode(stream: av.VideoStream, packet: av.Packet, src: VideoInfo,
            expected: int) -> Iterator[tuple[int, av.VideoFrame]]:
    """Frames of ``packet`` with their indices, checking none of the table is skipped."""
    try:
        frames = stream.decode(packet)
    except av.error.FFmpegError as err:
        raise InputError(f"{src.name} could not be decoded near frame {expected} ({err}); "
                         "re-export it from your editor") from err
    for frame in frames:
        ts = frame_timestamp(frame)
        index = int(np.searchsorted(src.pts, ts)) if ts is not None else -1
        if not (0 <= index < src.frame_count and src.pts[index] == ts) or index < expected:
            continue  # not in the frame table (dropped at probe time): skip it here too
        if index != expected:
            raise InputError(f"{src.name}: frame {expected} could not be decoded (the file "
                             "is damaged); re-export it from your editor")
        expected += 1
        yield index, frame


class _Job:
    """Per-frame work: planes for untouched frames, callback and merge for edited ones."""

    def __init__(self, src: VideoInfo, settings: EncodeSettings, chroma_420: bool,
                 replace_frame: ReplaceFrame | None, start: int, stop: int) -> None:
        self.src = src
        self.spec = src.colour
        self.chroma_420 = chroma_420
        self.replace_frame = replace_frame
        self.start, self.stop = start, stop
        self.pts_offset = 0  # a span export starts its first frame at time 0
        self.pix_fmt = encoder_pix_fmt(settings.video_codec, chroma_420)
        self.tags = _output_tags(src, self.spec)

    def output_frame(self, index: int, decoded: av.VideoFrame) -> av.VideoFrame:
        planes = rotate_planes(frame_planes(decoded), self.src.rotation)
        planes = to_chroma_format(planes, self.chroma_420)
        if self.start <= index < self.stop:
            planes = self._edit(index, planes)
        frame = planes_to_frame(planes, self.spec.full_range)
        frame.colorspace = self.tags.colorspace
        frame.color_primaries = self.tags.color_primaries
        frame.color_trc = self.tags.color_trc
        if self.pix_fmt != frame.format.name:
            frame = frame.reformat(format=self.pix_fmt)
        frame.pts = int(self.src.pts[index]) - self.pts_offset
        frame.time_base = self.src.time_base
        return frame

    def _edit(self, index: int, planes: YuvPlanes) -> YuvPlanes:
        assert self.replace_frame is not None
        rgb = yuv_to_rgb(planes, self.spec)
        original = rgb.copy()
        new = replaced(self.replace_frame, index, rgb)
        return merge_edit(planes, original, new, self.spec)


def merge_edit(planes: YuvPlanes, original: np.ndarray, new: np.ndarray,
               spec: ColourSpec) -> YuvPlanes:
    """``planes`` with the pixels where ``new`` differs from ``original`` re-encoded.

    Only the bounding box of the change is converted, aligned to the chroma grid; unchanged
    luma samples and chroma blocks keep their decoded values exactly.
    """
    differs = new != original
    # three ORs of strided views: numpy's any(axis=2) over a length-3 axis is ~9x slower
    changed = differs[..., 0] | differs[..., 1] | differs[..., 2]
    rows = np.flatnonzero(changed.any(axis=1))
    if len(rows) == 0:
        return planes
    cols = np.flatnonzero(changed.any(axis=0))
    is_420 = planes.is_420
    step = 2 if is_420 else 1
    r0, c0 = rows[0] // step * step, cols[0] // step * step
    r1 = min(changed.shape[0], (rows[-1] // step + 1) * step)
    c1 = min(changed.shape[1], (cols[-1] // step + 1) * step)
    box = changed[r0:r1, c0:c1]
    fresh = rgb_to_yuv(np.ascontiguousarray(new[r0:r1, c0:c1]), spec, chroma_420=is_420)
    y = planes.y.copy()
    y[r0:r1, c0:c1] = np.where(box, fresh.y, y[r0:r1, c0:c1])
    if is_420:
        block = box.reshape(box.shape[0] // 2, 2, box.shape[1] // 2, 2).any(axis=(1, 3))
        cr = slice(r0 // 2, r1 // 2), slice(c0 // 2, c1 // 2)
    else:
        block = box
        cr = slice(r0, r1), slice(c0, c1)
    u, v = planes.u.copy(), planes.v.copy()
    u[cr] = np.where(block, fresh.u, u[cr])
    v[cr] = np.where(block, fresh.v, v[cr])
    return YuvPlanes(y, u, v)


def _output_tags(src: VideoInfo, spec: ColourSpec) -> ColourTags:
    """Tag the output like the source, except a matrix we converted with instead of its own."""
    colorspace = src.colorspace
    if colorspace not in _KR_KB and colorspace != COLORSPACE_UNSPECIFIED:
        colorspace = COLORSPACE_SMPTE170M
    color_range = RANGE_JPEG if spec.full_range else (
        src.color_range if src.color_range in (0, RANGE_MPEG) else RANGE_MPEG)
    return ColourTags(color_range=color_range, colorspace=colorspace,
                      color_primaries=src.color_primaries, color_trc=src.color_trc)
