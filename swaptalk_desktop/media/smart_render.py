"""Smart render: copy the source's untouched GOPs, re-encode only the GOPs with edited frames.

A *clean cut* is a keyframe packet that starts an IDR (H.264) or an IRAP picture without
leading pictures (HEVC) and that no packet crosses in display order: every packet decoded
before it is shown before it, every packet after it is shown after it. Between two clean cuts
lies a *run* of packets that decodes on its own and shows a contiguous range of frames. Runs
that hold an edited frame (or the first / last frame of a marked span inside a run) are decoded
and re-encoded as one segment each (a fresh encoder, so the segment starts with an IDR and
references nothing outside itself); every other run's packets are copied as they are, so the
picture outside the re-encoded GOPs is the source's bit for bit.

Joins: H.264 segments are encoded with their own SPS/PPS id (x264 ``sps-id``) and the output's
avcC holds the source's parameter sets plus the new ones, so copied and new slices each find
theirs and nothing is carried in-band. x265 has no such option, so HEVC segments are joined
only when the encoder's VPS/SPS/PPS equal the source's byte for byte (an x265 source; the
preset is searched for one that gives them). Timestamps: new packets keep the source's pts
(VFR stays VFR) and take the source's dts of the same frames in decode order; H.264 segments
are encoded without B-frames, which makes that valid for any source (the i-th smallest dts of
a set of frames is never later than their i-th smallest pts).

Anything that cannot be joined this way raises :class:`SmartFallback` with the reason before
the output is started, or while writing (the caller then does the full encode).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.error
import numpy as np

from ..core.cancel import CancelToken
from ..core.errors import InputError
from . import bitstream as bs
from .audio import AudioClip
from .audio_patch import plan_patch
from .colour import (
    YuvPlanes,
    frame_planes,
    planes_to_frame,
    rotate_planes,
    yuv_to_rgb,
)
from .container import open_input
from .encoders import X264_PRESETS, EncodeSettings
from .mux import AacWriter, closed_on_failure, mux, open_output, replaced
from .probe import VideoInfo

log = logging.getLogger(__name__)

SMART_CODECS = ("h264", "hevc")
_H264_PROFILES = {66: "baseline", 77: "main", 100: "high"}
_HEVC_PROFILES = {1: "main"}
_AUDIO_LEAD_S = 0.5


class SmartFallback(Exception):
    """Smart render cannot write this export; ``str(err)`` says why (for the user)."""


@dataclass(frozen=True)
class WriteReport:
    """Which path wrote the file and, for a full encode asked to be smart, why."""

    mode: str  # "smart" or "full"
    reason: str | None = None
    frames_copied: int = 0
    frames_encoded: int = 0
    segments: tuple[tuple[int, int], ...] = ()
    audio: str = "encoded"
    """"copied" (the source's packets), "patched" (copied but around new dialogue),
    "encoded" (the whole sound encoded to AAC) or "none"."""

    def as_dict(self) -> dict:
        return {"mode": self.mode, "reason": self.reason, "frames_copied": self.frames_copied,
                "frames_reencoded": self.frames_encoded,
                "reencoded_ranges": [list(s) for s in self.segments], "audio": self.audio}


def static_reason(src: VideoInfo, settings: EncodeSettings) -> str | None:
    """Why the export settings rule smart render out before reading any packet (or None)."""
    if src.codec not in SMART_CODECS:
        return (f"the source is {src.codec}; smart render copies H.264 and HEVC streams only")
    if settings.video_codec != "libx264":
        return (f"the {settings.video_codec} encoder was chosen; smart render re-encodes the "
                "edited GOPs with libx264/libx265 only")
    if settings.crf == 0:
        return "lossless output (CRF 0) needs a profile the source's stream does not have"
    if src.pix_fmt not in ("yuv420p", "yuvj420p"):
        return f"the source is {src.pix_fmt}; smart render handles 8-bit 4:2:0 streams only"
    return None


@dataclass
class _Scan:
    """The source's video packets in decode order."""

    pts: np.ndarray
    dts: np.ndarray
    duration: np.ndarray
    index: np.ndarray  # frame index of each packet
    cuts: np.ndarray  # decode positions of clean cuts, ascending, starting with 0


@dataclass
class _Segment:
    runs: tuple[int, int]  # run numbers [first, last]
    start: int  # first frame to encode
    stop: int  # frame after the last one to encode


@dataclass
class SmartPlan:
    scan: _Scan
    segments: list[_Segment]
    run_action: np.ndarray  # per run: -1 drop, -2 copy, k >= 0 segment k
    codec: str
    config: bytes  # the output's extradata (avcC / hvcC)
    length_size: int
    encoder: str
    options: dict[str, str]
    expected_sets: list[bytes] = field(default_factory=list)


def plan(src: VideoInfo, settings: EncodeSettings, ranges: list[tuple[int, int]],
         span: tuple[int, int] | None) -> SmartPlan:
    """What to copy and what to re-encode; raises SmartFallback with the reason."""
    reason = static_reason(src, settings)
    if reason:
        raise SmartFallback(reason)
    n = src.frame_count
    a, b = span or (0, n)
    codec = src.codec
    with open_input(src.path, "a video file") as container:
        if "mp4" not in container.format.name.split(","):
            raise SmartFallback(f"the source is in a {container.format.name.split(',')[0]} "
                                "container; smart render copies packets from MP4/MOV files only")
        vin = next(s for s in container.streams if s.index == src.stream_index)
        extradata = bytes(vin.codec_context.extradata or b"")
        try:
            if codec == "h264":
                avc = bs.AvcConfig.parse(extradata)
                length_size = avc.length_size
            else:
                hvc = bs.HevcConfig.parse(extradata)
                length_size = hvc.length_size
        except (ValueError, IndexError) as err:
            raise SmartFallback(f"the source's {codec.upper()} stream has no MP4-style decoder "
                                f"configuration ({err}; e.g. MPEG-TS), so its packets cannot "
                                "be copied") from err
        scan = _scan(container, vin, src, length_size)
    # frames of each run: [first[k], first[k + 1])
    first = np.append(scan.index[scan.cuts], n)
    runs = len(scan.cuts)
    wanted = [(max(s, a), min(e, b)) for s, e in ranges if min(e, b) > max(s, a)]
    need = np.zeros(runs, bool)
    for s, e in wanted:
        need[np.searchsorted(first, s, "right") - 1: np.searchsorted(first, e, "left")] = True
    for cut in (a, b):  # a span edge inside a run: that run is cut by re-encoding it
        k = np.searchsorted(first, cut, "right") - 1
        if 0 <= k < runs and first[k] != cut:
            need[k] = True
    inside = (first[1:] > a) & (first[:-1] < b)
    action = np.where(inside, -2, -1)
    segments: list[_Segment] = []
    k = 0
    while k < runs:
        if need[k] and inside[k]:
            j = k
            while j + 1 < runs and need[j + 1] and inside[j + 1]:
                j += 1
            action[k:j + 1] = len(segments)
            segments.append(_Segment((k, j), max(a, int(first[k])), min(b, int(first[j + 1]))))
            k = j + 1
        else:
            k += 1
    encoded = sum(s.stop - s.start for s in segments)
    if encoded >= b - a and b - a > 0 and segments:
        raise SmartFallback("the edits leave no whole GOP to copy (no clean cut point between "
                            "them and the ends: long or open GOPs); a full encode costs the same")

    longest = max((s.stop - s.start for s in segments), default=1)
    if codec == "h264":
        profile = _H264_PROFILES.get(avc.profile_idc)
        if profile is None:
            raise SmartFallback(f"the source's H.264 profile ({avc.profile_idc}) is not one "
                                "smart render can match (baseline, main, high)")
        used = {bs.h264_sps_id(s) for s in avc.sps} | {bs.h264_pps_id(p) for p in avc.pps}
        new_id = next((i for i in range(1, 32) if i not in used), None)
        if new_id is None:
            raise SmartFallback("the source uses every H.264 parameter set id")
        options = {"preset": settings.preset, "crf": str(settings.crf), "profile": profile,
                   "x264-params": (f"sps-id={new_id}:level={avc.level_idc}:bframes=0:"
                                   f"keyint={longest + 1}:min-keyint=1:scenecut=0:"
                                   "open-gop=0:log-level=error")}
        expected = _probe_sets(src, "libx264", options, codec, length_size) if segments else []
        sps = [s for s in expected if bs.nal_type(codec, s) == bs.H264_SPS]
        pps = [s for s in expected if bs.nal_type(codec, s) == bs.H264_PPS]
        config = bs.AvcConfig(avc.header, avc.sps + sps, avc.pps + pps, avc.tail).to_bytes() \
            if segments else extradata
        return SmartPlan(scan, segments, action, codec, config, length_size, "libx264",
                         options, expected)

    source_sets = hvc.parameter_sets()
    options: dict[str, str] = {}
    if segments:
        options = _hevc_options(src, settings, source_sets, longest, length_size)
    return SmartPlan(scan, segments, action, codec, extradata, length_size, "libx265", options,
                     source_sets)


def _scan(container: av.container.InputContainer, vin: av.stream.Stream, src: VideoInfo,
          length_size: int) -> _Scan:
    pts, dts, dur, cut_key = [], [], [], []
    try:
        for packet in container.demux(vin):
            if packet.size == 0 or packet.pts is None:
                if packet.size:
                    raise SmartFallback("the source has video packets without timestamps")
                continue
            if packet.dts is None:
                raise SmartFallback("the source has video packets without decode timestamps")
            pts.append(packet.pts)
            dts.append(packet.dts)
            dur.append(packet.duration or 0)
            key = False
            if packet.is_keyframe:
                t = bs.first_vcl_type(src.codec,
                                      bs.split_length_prefixed(bytes(packet), length_size))
                key = (t == bs.H264_IDR) if src.codec == "h264" else t in bs.HEVC_IRAP
            cut_key.append(key)
    except av.error.FFmpegError as err:
        raise InputError(f"{src.name} could not be read ({err}); re-export it from your "
                         "editor") from err
    p = np.asarray(pts, np.int64)
    index = np.searchsorted(src.pts, p)
    if len(p) != src.frame_count or np.any(index >= src.frame_count) or \
            np.any(src.pts[np.minimum(index, src.frame_count - 1)] != p) or \
            len(np.unique(index)) != len(p):
        raise SmartFallback("the video packets do not match the frame table one to one "
                            "(damaged, interlaced or edited file)")
    # A clean cut: nothing decoded before it is shown after it, nothing after it before it.
    before_max = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min], p[:-1]]))
    after_min = np.minimum.accumulate(p[::-1])[::-1]
    clean = np.asarray(cut_key, bool) & (before_max < p) & (after_min == p)
    cuts = np.flatnonzero(clean)
    if len(cuts) == 0 or cuts[0] != 0 or index[0] != 0:
        raise SmartFallback("the video does not start with a clean keyframe")
    return _Scan(p, np.asarray(dts, np.int64), np.asarray(dur, np.int64), index, cuts)


def _encoder(src: VideoInfo, name: str, options: dict[str, str], width: int,
             height: int) -> av.CodecContext:
    ctx = av.CodecContext.create(name, "w")
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = src.time_base
    ctx.framerate = src.stream_rate
    ctx.color_range = src.color_range
    ctx.colorspace = src.colorspace
    ctx.color_primaries = src.color_primaries
    ctx.color_trc = src.color_trc
    ctx.options = dict(options)
    return ctx


def _stored_size(src: VideoInfo) -> tuple[int, int]:
    return (src.height, src.width) if src.rotation in (90, 270) else (src.width, src.height)


def _probe_sets(src: VideoInfo, name: str, options: dict[str, str], codec: str,
                length_size: int) -> list[bytes]:
    """The parameter sets the segment encoder writes (encoding one grey frame)."""
    w, h = _stored_size(src)
    try:
        ctx = _encoder(src, name, options, w, h)
        frame = av.VideoFrame(w, h, "yuv420p")
        for plane in frame.planes:
            np.frombuffer(plane, np.uint8)[:] = 128
        frame.pts = 0
        frame.time_base = src.time_base
        packets = list(ctx.encode(frame)) + list(ctx.encode(None))
    except (av.error.FFmpegError, ValueError) as err:
        raise SmartFallback(f"{name} cannot encode this stream's format ({err})") from err
    if not packets:
        raise SmartFallback(f"{name} wrote nothing for a test frame")
    return [n for n in bs.split_annexb(bytes(packets[0])) if _is_parameter_set(codec, n)]


def _is_parameter_set(codec: str, nal: bytes) -> bool:
    t = bs.nal_type(codec, nal)
    if codec == "hevc":
        return t in (bs.HEVC_VPS, bs.HEVC_SPS, bs.HEVC_PPS)
    return t in (bs.H264_SPS, bs.H264_PPS)


def _hevc_options(src: VideoInfo, settings: EncodeSettings, source_sets: list[bytes],
                  longest: int, length_size: int) -> dict[str, str]:
    """x265 options whose VPS/SPS/PPS equal the source's (the chosen preset first)."""
    presets = sorted(X264_PRESETS[:-1], key=lambda p: abs(X264_PRESETS.index(p) -
                                                          X264_PRESETS.index(settings.preset)))
    wanted = sorted(source_sets)
    for preset in presets:
        options = {"preset": preset, "crf": str(settings.crf), "profile": "main",
                   "x265-params": f"keyint={longest + 1}:min-keyint=1:scenecut=0:"
                                  "open-gop=0:log-level=error"}
        with contextlib.suppress(SmartFallback):
            if sorted(_probe_sets(src, "libx265", options, "hevc", length_size)) == wanted:
                if preset != settings.preset:
                    log.info("%s: HEVC GOPs re-encoded with x265 preset %s (it gives the "
                             "source's parameter sets)", src.name, preset)
                return options
    raise SmartFallback("x265 gives different HEVC parameter sets than the source's (it was "
                        "not made by x265 at 8-bit main profile); HEVC GOPs can only be joined "
                        "when they match")


ReplaceFrame = Callable[[int, np.ndarray], np.ndarray]
Merge = Callable[[YuvPlanes, np.ndarray, np.ndarray], YuvPlanes]


def write_smart(src: VideoInfo, tmp: Path, smart: SmartPlan, *,
                ranges: list[tuple[int, int]], replace_frame: ReplaceFrame | None,
                merge: Merge, audio: AudioClip | str | None, audio_start_s: float,
                settings: EncodeSettings, metadata: dict[str, str] | None,
                progress: Callable[[int, int], None] | None, cancel: CancelToken,
                span: tuple[int, int] | None,
                audio_changes: list[tuple[float, float]] | None = None) -> WriteReport:
    """Write the planned output to ``tmp`` (the caller's atomic temporary file).

    ``audio_changes``: where an :class:`AudioClip` ``audio`` differs from the source's sound
    (seconds on its clock); given, the source's AAC packets are copied elsewhere
    (:mod:`.audio_patch`) instead of encoding the whole sound.
    """
    n = src.frame_count
    a, b = span or (0, n)
    offset = int(src.pts[a]) if span is not None else 0
    scan = smart.scan
    run_of = np.searchsorted(scan.cuts, np.arange(len(scan.pts)), "right") - 1
    last_needed = int(np.flatnonzero(smart.run_action[run_of] != -1).max())
    edit_ranges = sorted(ranges)
    copied = encoded = 0
    with open_input(src.path, "a video file") as source:
        vin = next(s for s in source.streams if s.index == src.stream_index)
        ain = None
        patch: dict[int, av.Packet] | None = None
        if src.audio is not None and (audio == "copy" or (
                isinstance(audio, AudioClip) and audio_changes is not None)):
            ain = next(s for s in source.streams if s.index == src.audio.stream_index)
            if audio != "copy":
                patch = _audio_patch(src, ain, audio, audio_changes, settings.audio_bitrate)
                if patch is None:
                    ain = None
                else:
                    audio = "copy"
        sound = "patched" if patch is not None else (
            "copied" if ain is not None else "encoded" if isinstance(audio, AudioClip)
            else "none")
        out = open_output(tmp, metadata)
        with closed_on_failure(out, f"could not write {tmp.name}"):
            vout = out.add_stream_from_template(vin)
            vout.codec_context.extradata = smart.config
            aout = out.add_stream_from_template(ain) if ain is not None else None
            aac = AacWriter(out, audio, settings.audio_bitrate, start_s=audio_start_s) \
                if isinstance(audio, AudioClip) else None
            writer = _SegmentWriter(src, smart, edit_ranges, replace_frame, merge, offset)
            pos = -1
            current = -1
            streams = [vin] if ain is None else [vin, ain]
            for packet in source.demux(streams):
                if packet.stream.type == "audio":
                    if packet.size and packet.dts is not None:
                        if patch is not None and packet.pts in patch:
                            packet = patch[packet.pts]
                        packet.stream = aout
                        mux(out, [packet])
                    continue
                if packet.size == 0 or packet.pts is None:
                    continue
                cancel.raise_if_cancelled()
                pos += 1
                if pos > last_needed:
                    break
                action = int(smart.run_action[run_of[pos]])
                if action != current and current >= 0:
                    encoded += writer.finish(out, vout)
                    _report(progress, copied + encoded, b - a)
                current = action
                if action == -2:
                    packet.stream = vout
                    packet.pts -= offset
                    packet.dts = (packet.dts if packet.dts is not None else packet.pts) - \
                        offset
                    mux(out, [packet])
                    copied += 1
                    _report(progress, copied + encoded, b - a)
                elif action >= 0:
                    writer.feed(action, packet)
                if aac is not None:
                    aac.write_until(float((scan.pts[pos] - offset) * src.time_base) +
                                    _AUDIO_LEAD_S)
            if current >= 0:
                encoded += writer.finish(out, vout)
            if copied + encoded != b - a:
                raise InputError(f"{src.name}: only {copied + encoded} of {b - a} frames could "
                                 "be written (the file is damaged or changed since it was "
                                 "opened); re-open it")
            _report(progress, b - a, b - a)
            if aac is not None:
                aac.finish()
            out.close()
    return WriteReport("smart", None, copied, encoded,
                       tuple((s.start, s.stop) for s in smart.segments), sound)


def _audio_patch(src: VideoInfo, ain: av.audio.AudioStream, clip: AudioClip,
                 changes: list[tuple[float, float]], bitrate: int) -> dict | None:
    with open_input(src.path, "a video file") as container:
        stream = next(s for s in container.streams if s.index == ain.index)
        packets = [(int(p.pts), int(p.duration or 0)) for p in container.demux(stream)
                   if p.size and p.pts is not None]
    return plan_patch(ain, packets, clip, changes, bitrate)


def _report(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)




class _SegmentWriter:
    """Decodes one segment's runs, edits and re-encodes its frames, muxes the new packets."""

    def __init__(self, src: VideoInfo, smart: SmartPlan, ranges: list[tuple[int, int]],
                 replace_frame: ReplaceFrame | None, merge: Merge, offset: int) -> None:
        self.src, self.smart, self.ranges = src, smart, ranges
        self.replace_frame, self.merge, self.offset = replace_frame, merge, offset
        self.segment: _Segment | None = None
        self.decoder: av.CodecContext | None = None
        self.encoder: av.CodecContext | None = None
        self.packets: list[av.Packet] = []
        self.dts: list[int] = []
        self.duration: dict[int, int] = {}
        self.frames = 0

    def feed(self, k: int, packet: av.Packet) -> None:
        if self.segment is None:
            self._start(k)
        seg = self.segment
        index = int(np.searchsorted(self.src.pts, packet.pts))
        if seg.start <= index < seg.stop:
            self.dts.append(int(packet.dts if packet.dts is not None else packet.pts))
            self.duration[int(packet.pts)] = int(packet.duration or 0)
        try:
            frames = self.decoder.decode(packet)
        except av.error.FFmpegError as err:
            raise InputError(f"{self.src.name} could not be decoded near frame {index} "
                             f"({err}); re-export it from your editor") from err
        for frame in frames:
            self._encode(frame)

    def _start(self, k: int) -> None:
        self.segment = self.smart.segments[k]
        vin_ctx = av.CodecContext.create(self.smart.codec, "r")
        vin_ctx.extradata = self.smart.config
        vin_ctx.thread_type = "AUTO"
        self.decoder = vin_ctx
        self.encoder = None
        self.packets, self.dts, self.duration, self.frames = [], [], {}, 0

    def _encode(self, frame: av.VideoFrame) -> None:
        seg = self.segment
        ts = frame.pts if frame.pts is not None else frame.dts
        index = int(np.searchsorted(self.src.pts, ts))
        if not (seg.start <= index < seg.stop and self.src.pts[index] == ts):
            return
        if index != seg.start + self.frames:
            raise InputError(f"{self.src.name}: frame {seg.start + self.frames} could not be "
                             "decoded (the file is damaged); re-export it from your editor")
        planes = frame_planes(frame)
        if any(s <= index < e for s, e in self.ranges) and self.replace_frame is not None:
            planes = self._edit(index, planes)
        if self.encoder is None:
            h, w = planes.y.shape
            self.encoder = _encoder(self.src, self.smart.encoder, self.smart.options, w, h)
        out = planes_to_frame(planes, self.src.colour.full_range)
        out.pts = int(self.src.pts[index]) - self.offset
        out.time_base = self.src.time_base
        self.packets.extend(self.encoder.encode(out))
        self.frames += 1

    def _edit(self, index: int, planes: YuvPlanes) -> YuvPlanes:
        rotation = self.src.rotation
        upright = rotate_planes(planes, rotation)
        spec = self.src.colour
        rgb = yuv_to_rgb(upright, spec)
        original = rgb.copy()
        new = replaced(self.replace_frame, index, rgb)
        merged = self.merge(upright, original, new)
        return rotate_planes(merged, (360 - rotation) % 360)

    def finish(self, out: av.container.OutputContainer, vout: av.stream.Stream) -> int:
        """Flush the segment and mux its packets; returns the frames written."""
        seg = self.segment
        try:
            for frame in self.decoder.decode(None):
                self._encode(frame)
        except av.error.FFmpegError as err:
            raise InputError(f"{self.src.name} could not be decoded near frame {seg.stop} "
                             f"({err}); re-export it from your editor") from err
        if self.encoder is not None:
            self.packets.extend(self.encoder.encode(None))
        want = seg.stop - seg.start
        if self.frames != want or len(self.packets) != want or len(self.dts) != want:
            raise InputError(f"{self.src.name}: frames {seg.start}-{seg.stop - 1} could not be "
                             "decoded completely (the file is damaged); re-export it")
        codec, size = self.smart.codec, self.smart.length_size
        dts = sorted(self.dts)
        new = []
        for i, packet in enumerate(self.packets):
            nals = bs.split_annexb(bytes(packet))
            sets = [x for x in nals if _is_parameter_set(codec, x)]
            if any(x not in self.smart.expected_sets for x in sets):
                raise SmartFallback("the re-encoded GOP's parameter sets differ from the ones "
                                    "planned; they cannot be joined to the source's")
            body = [x for x in nals if not _is_parameter_set(codec, x)]
            pts = int(packet.pts)
            d = dts[i] - self.offset
            if d > pts:
                raise SmartFallback("the re-encoded GOP needs more frame reordering than the "
                                    "source's timestamps allow")
            p = av.Packet(bs.join_length_prefixed(body, size))
            p.pts, p.dts = pts, d
            p.time_base = self.src.time_base
            p.duration = self.duration.get(pts + self.offset, 0)
            p.is_keyframe = bool(packet.is_keyframe)
            p.stream = vout
            new.append(p)
        mux(out, new)
        self.segment = None
        self.decoder = self.encoder = None
        return want
