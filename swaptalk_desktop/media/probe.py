"""What is in a media file: streams, exact frame table, colour tags, rotation.

The frame table (every frame's presentation timestamp) comes from demuxing packets, which reads
no picture data and takes milliseconds. Packets can disagree with what a decoder shows (leading
pictures dropped after an open-GOP start, packets without timestamps, a truncated file), so the
first frame is decoded as a check and any doubt falls back to a full decode pass, which is slow
but always right.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from ..core.errors import InputError
from .colour import ColourSpec, colour_spec
from .container import (
    IMAGE_SUFFIXES,
    frame_timestamp,
    is_image_container,
    open_input,
    pick_audio_stream,
    pick_video_stream,
)

log = logging.getLogger(__name__)

# Packets decoded at most when checking that the first packet's picture is the first shown.
_HEAD_CHECK_PACKETS = 64


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    duration_s: float
    stream_index: int
    start_s: float = 0.0
    """Where the track starts on the file's clock (compare with :attr:`VideoInfo.start_s`)."""


@dataclass(frozen=True, eq=False)
class VideoInfo:
    """A video stream and its exact frame table. ``width``/``height`` are the upright size."""

    path: Path
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    """Clockwise degrees (0, 90, 180, 270) applied to decoded pictures to show them upright."""
    fps: Fraction
    nominal_fps: Fraction
    """The rate timecode counts at (the rounded average for variable-rate clips)."""
    stream_rate: Fraction
    """The container's base rate, which the encoder needs to give the last frame its length."""
    is_vfr: bool
    frame_count: int
    frame_times: np.ndarray
    """float64 seconds of each frame from the first frame (``frame_times[0] == 0``)."""
    pts: np.ndarray
    """int64 presentation timestamps in :attr:`time_base`, sorted."""
    time_base: Fraction
    duration_s: float
    start_s: float
    """The first frame's time on the file's clock."""
    codec: str
    pix_fmt: str
    color_range: int
    colorspace: int
    color_primaries: int
    color_trc: int
    stream_index: int
    keyframes: np.ndarray
    """int64 indices of the frames a decoder can start from, ascending."""
    audio: AudioInfo | None = None
    indexed_by: str = "packets"
    """"packets" (fast path) or "decode" (fallback); for diagnostics."""
    truncated: bool = False
    """The file ends early; only the frames listed here can be decoded."""
    keyframe_dts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Decode timestamps of :attr:`keyframes` where known (seek targets), else their pts."""

    @property
    def colour(self) -> ColourSpec:
        """The YUV<->RGB conversion used for this stream by the reader and the writer."""
        return colour_spec(self.colorspace, self.color_range, self.pix_fmt,
                           self.coded_width, self.coded_height)

    @property
    def name(self) -> str:
        return self.path.name

    def audio_time(self, index: int) -> float:
        """Seconds into the clip's audio track at which frame ``index`` is shown."""
        audio_start = self.audio.start_s if self.audio is not None else self.start_s
        return float(self.frame_times[index]) + self.start_s - audio_start


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    format_name: str
    duration_s: float
    video: VideoInfo | None
    audio: AudioInfo | None
    is_image: bool = False


def probe(path: Path | str) -> MediaInfo:
    """Describe any media file; raises InputError for missing, unreadable or corrupt files."""
    path = Path(path)
    with open_input(path) as container:
        image = is_image_container(container)
        vstream = None if image else pick_video_stream(container)
        astream = pick_audio_stream(container)
        if vstream is None and astream is None and not image:
            raise InputError(f"{path.name} has no video or audio stream; choose a clip or a "
                             "sound file")
        audio = _audio_info(astream, container) if astream is not None else None
        format_name = container.format.name
        container_duration = (container.duration or 0) / av.time_base
        video_index = vstream.index if vstream is not None else None
    video = _video_info(path, video_index, audio) if video_index is not None else None
    duration = container_duration or max(video.duration_s if video else 0.0,
                                         audio.duration_s if audio else 0.0)
    return MediaInfo(path=path, format_name=format_name, duration_s=duration, video=video,
                     audio=audio, is_image=image)


def image_not_video(path: Path | str) -> InputError:
    """The error for a still picture given where a clip is needed (render, probe, import)."""
    return InputError(f"{Path(path).name} is an image, not a video clip; choose a video file")


def probe_video(path: Path | str) -> VideoInfo:
    """Describe a video clip; raises InputError unless it has a decodable video stream."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
        raise image_not_video(path)
    info = probe(path)
    if info.is_image:
        raise image_not_video(path)
    if info.video is None:
        raise InputError(f"{path.name} has no video stream (it is audio only); choose a "
                         "video clip")
    return info.video


def probe_audio(path: Path | str) -> AudioInfo:
    """Describe a file's audio track; raises InputError when it has none."""
    path = Path(path)
    with open_input(path, "an audio file") as container:
        if is_image_container(container):
            raise InputError(f"{path.name} is an image, not an audio file; choose a sound file")
        stream = pick_audio_stream(container)
        if stream is None:
            raise InputError(f"{path.name} has no audio stream; choose a dialogue file")
        return _audio_info(stream, container)


def _audio_info(stream: av.AudioStream, container: av.container.InputContainer) -> AudioInfo:
    ctx = stream.codec_context
    tb = stream.time_base
    if stream.duration is not None and tb is not None:
        duration = float(stream.duration * tb)
    else:
        duration = (container.duration or 0) / av.time_base
    start = float(stream.start_time * tb) if stream.start_time is not None and tb else 0.0
    return AudioInfo(codec=ctx.name, sample_rate=int(ctx.sample_rate or 0),
                     channels=int(ctx.channels or 0), duration_s=duration,
                     stream_index=stream.index, start_s=start)


# -- the frame table ------------------------------------------------------------------------


@dataclass
class _PacketScan:
    pts: list[int | None] = field(default_factory=list)
    dts: list[int | None] = field(default_factory=list)
    keyframe: list[bool] = field(default_factory=list)
    duration: list[int] = field(default_factory=list)
    declared_frames: int = 0
    discarded: int = 0
    """Packets an MP4 edit list cuts away: demuxed and decoded, but never shown."""
    read_error: bool = False
    corrupt: bool = False
    time_base: Fraction = Fraction(1, 90000)
    codec: str = ""
    average_rate: Fraction | None = None
    nominal_rate: Fraction | None = None


def _scan_packets(path: Path, stream_index: int) -> _PacketScan:
    scan = _PacketScan()
    with open_input(path) as container:
        stream = container.streams[stream_index]
        # Only MP4/MOV sample tables count frames reliably (AVI headers count time units).
        if "mp4" in container.format.name or "mov" in container.format.name:
            scan.declared_frames = int(stream.frames or 0)
        scan.time_base = Fraction(stream.time_base or scan.time_base)
        scan.codec = stream.codec_context.name
        scan.average_rate = stream.average_rate
        scan.nominal_rate = stream.guessed_rate or stream.base_rate
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.is_discard:
                    scan.discarded += 1
                    continue
                scan.corrupt |= bool(packet.is_corrupt)
                scan.pts.append(packet.pts)
                scan.dts.append(packet.dts)
                scan.keyframe.append(bool(packet.is_keyframe))
                scan.duration.append(int(packet.duration or 0))
        except av.error.FFmpegError as err:
            log.warning("%s: demuxing stopped early (%s)", path.name, err)
            scan.read_error = True
    return scan


@dataclass
class _FirstFrame:
    ts: int | None
    width: int
    height: int
    pix_fmt: str
    rotation_ccw: float
    color_range: int
    colorspace: int
    color_primaries: int
    color_trc: int


def _decode_first_frame(path: Path, stream_index: int) -> _FirstFrame | None:
    with open_input(path) as container:
        stream = container.streams[stream_index]
        try:
            packets = itertools.islice(container.demux(stream), _HEAD_CHECK_PACKETS)
            # The trailing None drains a decoder that holds pictures back for reordering.
            for packet in itertools.chain(packets, [None]):
                for frame in stream.decode(packet):
                    return _FirstFrame(
                        ts=frame_timestamp(frame), width=frame.width, height=frame.height,
                        pix_fmt=frame.format.name, rotation_ccw=float(frame.rotation or 0),
                        color_range=int(frame.color_range), colorspace=int(frame.colorspace),
                        color_primaries=int(frame.color_primaries),
                        color_trc=int(frame.color_trc))
        except av.error.FFmpegError as err:
            log.warning("%s: decoding the first frame failed (%s)", path.name, err)
    return None


def _decode_table(path: Path, stream_index: int) -> tuple[list[int], list[bool], bool]:
    """Frame timestamps and key flags from decoding every frame; third item: stopped early."""
    ts: list[int] = []
    keys: list[bool] = []
    stopped = False
    with open_input(path) as container:
        stream = container.streams[stream_index]
        stream.thread_type = "AUTO"
        try:
            for packet in container.demux(stream):
                for frame in stream.decode(packet):
                    if frame.is_corrupt:
                        continue
                    t = frame_timestamp(frame)
                    if t is None:
                        raise InputError(
                            f"{path.name} has no frame timestamps (a raw stream); remux it "
                            "into an MP4 or MOV file first")
                    ts.append(int(t))
                    keys.append(bool(frame.key_frame))
        except av.error.FFmpegError as err:
            log.warning("%s: decoding stopped at frame %d (%s)", path.name, len(ts), err)
            stopped = True
    return ts, keys, stopped


def _rotation_cw(rotation_ccw: float, name: str) -> int:
    quarter = round(rotation_ccw / 90.0)
    if abs(rotation_ccw - 90.0 * quarter) > 1.0:
        log.warning("%s: rotation %.1f degrees is not a multiple of 90; using %d", name,
                    rotation_ccw, 90 * quarter)
    return (-90 * quarter) % 360


def _video_info(path: Path, stream_index: int, audio: AudioInfo | None) -> VideoInfo:
    name = path.name
    scan = _scan_packets(path, stream_index)
    first = _decode_first_frame(path, stream_index)
    if first is None:
        raise InputError(f"{name} is truncated or corrupt (no decodable video frames); "
                         "re-export it from your editor")

    known = [p for p in scan.pts if p is not None]
    demuxed = len(scan.pts) + scan.discarded
    truncated = scan.read_error or scan.corrupt or 0 < scan.declared_frames != demuxed
    packets_trustworthy = (
        known and len(known) == len(scan.pts) and len(set(known)) == len(known)
        and not truncated and first.ts == min(known))
    if packets_trustworthy:
        order = np.argsort(np.asarray(known, np.int64), kind="stable")
        pts = np.asarray(known, np.int64)[order]
        keyframes = np.flatnonzero(np.asarray(scan.keyframe)[order]).astype(np.int64)
        dts_sorted = [scan.dts[i] for i in order]
        keyframe_dts = np.asarray(
            [dts_sorted[k] if dts_sorted[k] is not None else pts[k] for k in keyframes],
            np.int64)
        durations = np.asarray(scan.duration, np.int64)[order]
        indexed_by = "packets"
    else:
        log.info("%s: packet timestamps are not reliable; indexing by decoding", name)
        ts, keys, stopped = _decode_table(path, stream_index)
        truncated = truncated or stopped
        if not ts:
            raise InputError(f"{name} is truncated or corrupt (no decodable video frames); "
                             "re-export it from your editor")
        order = np.argsort(np.asarray(ts, np.int64), kind="stable")
        pts = np.asarray(ts, np.int64)[order]
        if len(np.unique(pts)) != len(pts):
            raise InputError(f"{name} has frames with duplicate timestamps; remux or re-export "
                             "it from your editor")
        keyframes = np.flatnonzero(np.asarray(keys)[order]).astype(np.int64)
        keyframe_dts = pts[keyframes]
        durations = np.zeros(len(pts), np.int64)
        indexed_by = "decode"
    if len(keyframes) == 0 or keyframes[0] != 0:
        # A stream that starts on a non-key picture still decodes from its first packet.
        keyframes = np.union1d([0], keyframes).astype(np.int64)
        keyframe_dts = np.concatenate([[pts[0]], keyframe_dts])[: len(keyframes)]

    time_base, avg_rate, nominal = scan.time_base, scan.average_rate, scan.nominal_rate
    n = len(pts)
    diffs = np.diff(pts)
    if durations[-1] > 0:
        last = int(durations[-1])
    elif len(diffs):
        last = int(np.median(diffs))
    else:
        last = int(round(1 / (float(avg_rate or nominal or 25) * time_base)))
    duration_s = float((int(pts[-1] - pts[0]) + last) * time_base)
    if avg_rate and avg_rate > 0 and not truncated:
        fps = Fraction(avg_rate)
    else:
        fps = (Fraction(n) / Fraction(duration_s)).limit_denominator(1_000_000)
    is_vfr = bool(len(diffs) and np.ptp(diffs) > max(1.0, 0.02 * float(np.median(diffs))))
    stream_rate = Fraction(nominal) if nominal and nominal > 0 else fps
    nominal_fps = stream_rate
    if is_vfr:
        # Editors conform variable-rate footage to its average rate; counting timecode at the
        # stream's base rate (often 30 for a 22 fps phone clip) would drift from real time.
        nominal_fps = Fraction(max(1, round(float(fps))))

    rotation = _rotation_cw(first.rotation_ccw, name)
    width, height = first.width, first.height
    if rotation in (90, 270):
        width, height = height, width

    return VideoInfo(
        path=path, width=width, height=height, coded_width=first.width,
        coded_height=first.height, rotation=rotation, fps=fps, nominal_fps=nominal_fps,
        stream_rate=stream_rate,
        is_vfr=is_vfr, frame_count=n,
        frame_times=((pts - pts[0]).astype(np.float64) * float(time_base)),
        pts=pts, time_base=time_base, duration_s=duration_s,
        start_s=float(pts[0] * time_base), codec=scan.codec, pix_fmt=first.pix_fmt,
        color_range=first.color_range, colorspace=first.colorspace,
        color_primaries=first.color_primaries, color_trc=first.color_trc,
        stream_index=stream_index, keyframes=keyframes, audio=audio, indexed_by=indexed_by,
        truncated=truncated, keyframe_dts=keyframe_dts)
