"""Opening media files with PyAV and turning its failures into messages a user can act on."""

from __future__ import annotations

import errno
from pathlib import Path

import av
import av.error

from ..core.errors import InputError

# Demuxers that FFmpeg uses for still images; a stream from one of them is a picture, not a clip.
_IMAGE_FORMATS = {
    "image2", "png_pipe", "jpeg_pipe", "jpegls_pipe", "jpegxl_pipe", "webp_pipe", "bmp_pipe",
    "tiff_pipe", "gem_pipe", "pgm_pipe", "ppm_pipe", "pbm_pipe", "pgmyuv_pipe", "pam_pipe",
    "qoi_pipe", "dpx_pipe", "exr_pipe", "hdr_pipe", "psd_pipe", "sgi_pipe", "svg_pipe",
    "xbm_pipe", "xpm_pipe", "xwd_pipe", "j2k_pipe", "pcx_pipe", "sunrast_pipe", "dds_pipe",
    "photocd_pipe", "pictor_pipe", "qdraw_pipe", "vbn_pipe", "cri_pipe", "pfm_pipe",
}
_IMAGE_CODECS = {"mjpeg", "png", "bmp", "tiff", "webp", "jpeg2000", "jpegxl", "qoi", "ppm",
                 "pgm", "pam", "dds", "exr", "hdr", "psd", "sgi", "targa"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif",
                  ".gif", ".jxl", ".avif", ".qoi", ".exr", ".psd", ".tga"}


def check_input_file(path: Path) -> None:
    """Raise InputError for paths that cannot be media at all (missing, folder, empty)."""
    if not path.exists():
        raise InputError(f"{path} does not exist; check the path")
    if path.is_dir():
        raise InputError(f"{path.name} is a folder, not a media file; choose a file inside it")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InputError(f"cannot read {path.name}: {err.strerror or err}") from err
    if size == 0:
        raise InputError(f"{path.name} is empty (0 bytes); copy or export it again")


def open_input(path: Path, what: str = "a media file") -> av.container.InputContainer:
    """Open ``path`` for reading; ``what`` completes "X is not ... we can read"."""
    check_input_file(path)
    try:
        return av.open(str(path), mode="r")
    except av.error.PermissionError as err:
        raise InputError(f"cannot read {path.name}: permission denied") from err
    except av.error.FFmpegError as err:
        raise InputError(
            f"{path.name} is not {what} we can read (unknown format, or truncated or corrupt); "
            "re-export it from your editor") from err
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EPERM):
            raise InputError(f"cannot read {path.name}: permission denied") from err
        raise InputError(f"cannot read {path.name}: {err.strerror or err}") from err


def is_image_container(container: av.container.InputContainer) -> bool:
    """True when the file is a still picture (its only video stream is a single image)."""
    if container.format.name in _IMAGE_FORMATS:
        return True
    streams = [s for s in container.streams.video]
    if not streams or container.streams.audio:
        return False
    only = streams[0]
    return (len(streams) == 1 and only.codec_context.name in _IMAGE_CODECS
            and (only.frames or 0) <= 1 and (container.duration or 0) <= 100_000)


def pick_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The clip's main picture stream; cover art (attached pictures) does not count."""
    candidates = [s for s in container.streams.video
                  if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not candidates:
        return None
    defaults = [s for s in candidates if s.disposition & av.stream.Disposition.default]
    return (defaults or candidates)[0]


def pick_audio_stream(container: av.container.InputContainer) -> av.AudioStream | None:
    streams = list(container.streams.audio)
    if not streams:
        return None
    defaults = [s for s in streams if s.disposition & av.stream.Disposition.default]
    return (defaults or streams)[0]


def frame_timestamp(frame: av.frame.Frame) -> int | None:
    """The frame's presentation time; containers without pts (AVI) fall back to the dts."""
    return frame.pts if frame.pts is not None else frame.dts
