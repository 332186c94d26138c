"""H.264 encoder choice and the mapping of one quality setting onto each encoder's options."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
import av.logging

log = logging.getLogger(__name__)

H264_ENCODERS = ("libx264", "h264_nvenc", "h264_qsv", "h264_vaapi", "h264_videotoolbox")
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")
# x264 preset -> NVENC p1 (fastest) .. p7 (best).
_NVENC_PRESET = dict(zip(X264_PRESETS, ("p1", "p1", "p2", "p3", "p3", "p4", "p5", "p6", "p7",
                                        "p7"), strict=True))
# QSV accepts the x264 names from veryfast to veryslow.
_QSV_PRESET = dict(zip(X264_PRESETS, ("veryfast", "veryfast", "veryfast", "faster", "fast",
                                      "medium", "slow", "slower", "veryslow", "veryslow"),
                       strict=True))
_FF_QP2LAMBDA = 118


@dataclass(frozen=True)
class EncodeSettings:
    """Output encoding. ``crf`` is x264's scale (0 = lossless, 18 visually transparent);
    other encoders get their nearest equivalent (see :func:`encoder_options`)."""

    video_codec: str = "libx264"
    crf: int = 18
    preset: str = "medium"
    audio_codec: str = "aac"
    audio_bitrate: int = 192_000

    def __post_init__(self) -> None:
        if self.video_codec not in H264_ENCODERS:
            raise ValueError(f"video_codec must be one of {', '.join(H264_ENCODERS)}")
        if not 0 <= self.crf <= 51:
            raise ValueError("crf must be between 0 (lossless) and 51")
        if self.preset not in X264_PRESETS:
            raise ValueError(f"preset must be one of {', '.join(X264_PRESETS)}")
        if self.audio_codec != "aac":
            raise ValueError("audio_codec must be 'aac' (MP4 output)")
        if not 32_000 <= self.audio_bitrate <= 512_000:
            raise ValueError("audio_bitrate must be between 32 kb/s and 512 kb/s")


def encoder_options(settings: EncodeSettings) -> dict[str, str]:
    """FFmpeg options giving ``settings.crf`` / ``settings.preset`` on the chosen encoder."""
    codec, crf, preset = settings.video_codec, settings.crf, settings.preset
    if codec == "libx264":
        # qp 0 is x264's lossless mode; crf 0 means the same but say it explicitly.
        quality = {"qp": "0"} if crf == 0 else {"crf": str(crf)}
        return {"preset": preset, **quality}
    if codec == "h264_nvenc":
        if crf == 0:
            return {"preset": _NVENC_PRESET[preset], "tune": "lossless"}
        return {"preset": _NVENC_PRESET[preset], "rc": "vbr", "cq": str(crf), "b": "0"}
    if codec == "h264_qsv":
        return {"preset": _QSV_PRESET[preset], "global_quality": str(max(1, crf))}
    if codec == "h264_vaapi":
        return {"rc_mode": "CQP", "qp": str(max(1, crf))}
    if codec == "h264_videotoolbox":
        # VideoToolbox quality runs 1..100 (higher is better) through global_quality.
        quality = max(1, min(100, 100 - 2 * crf))
        return {"flags": "+qscale", "global_quality": str(quality * _FF_QP2LAMBDA)}
    raise ValueError(f"unknown encoder {codec}")


def encoder_pix_fmt(codec: str, chroma_420: bool) -> str:
    """Pixel format handed to the encoder (hardware encoders want NV12 for 4:2:0)."""
    if not chroma_420:
        return "yuv444p"
    return "nv12" if codec in ("h264_qsv", "h264_videotoolbox") else "yuv420p"


def _try_encoder(name: str) -> bool:
    """Open ``name`` and encode two small frames the way write_clip feeds it."""
    try:
        ctx = av.CodecContext.create(name, "w")
        ctx.width, ctx.height = 256, 256
        ctx.pix_fmt = encoder_pix_fmt(name, True)
        ctx.time_base = Fraction(1, 25)
        ctx.framerate = Fraction(25)
        ctx.options = encoder_options(EncodeSettings(video_codec=name, preset="ultrafast"))
        ctx.open()
        for i in range(2):
            frame = av.VideoFrame(256, 256, "yuv420p").reformat(format=ctx.pix_fmt)
            frame.pts = i
            ctx.encode(frame)
        ctx.encode(None)
        return True
    except (av.error.FFmpegError, ValueError, OSError) as err:
        log.debug("encoder %s is not usable here: %s", name, err)
        return False


@functools.cache
def _available() -> tuple[str, ...]:
    with av.logging.Capture():
        return tuple(name for name in H264_ENCODERS if _try_encoder(name))


def available_video_encoders() -> list[str]:
    """The H.264 encoders that really work on this machine (tested once, then cached)."""
    return list(_available())
