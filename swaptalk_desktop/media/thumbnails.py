"""Small frame pictures for the timeline's video track, cached on disk per clip and height.

Frames are found exactly as :class:`VideoReader` finds them (by timestamp), but each decoded
picture is scaled down by FFmpeg's scaler straight from YUV, so a thumbnail never costs a
full-size RGB conversion. Requested frames are decoded in ascending order, so a strip decodes
forward through the file and seeks only across keyframes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np

from ..core.atomic import atomic_path
from ..core.cachedir import cache_root
from ..core.cancel import NEVER, CancelToken
from ..core.errors import OutputError
from ..core.hashing import content_fingerprint
from .colour import RANGE_JPEG, frame_planes, rotate_planes, yuv_to_rgb
from .decode import VideoReader
from .probe import VideoInfo

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_JPEG_QUALITY = 90


def thumbnail_size(info: VideoInfo, height: int) -> tuple[int, int]:
    """``(width, height)`` of an upright thumbnail ``height`` pixels tall."""
    height = max(1, int(height))
    return max(1, round(height * info.width / info.height)), height


def thumbnail_strip(info: VideoInfo, frames: Sequence[int], height: int, *,
                    cancel: CancelToken | None = None,
                    cache_dir: Path | None = None) -> list[np.ndarray]:
    """Upright RGB uint8 thumbnails ``height`` pixels tall of ``frames``, in the given order.

    Cached pictures are read from disk; the rest are decoded in one forward pass and cached
    (as JPEG: a picture returned now is the one every later call returns).
    """
    cancel = cancel or NEVER
    n = info.frame_count
    for index in frames:
        if not 0 <= index < n:
            raise IndexError(f"frame {index} is outside 0..{n - 1} of {info.name}")
    folder = thumbnail_folder(info, height, cache_dir)
    found: dict[int, np.ndarray] = {}
    for index in set(frames):
        picture = _read_cached(folder / f"{index:08d}.jpg")
        if picture is not None:
            found[index] = picture
    missing = sorted(set(frames) - found.keys())
    if missing:
        width, tall = thumbnail_size(info, height)
        writable = _prepare_folder(folder)
        with ThumbnailReader(info, width, tall) as reader:
            for index in missing:
                cancel.raise_if_cancelled()
                data = _encode(reader.frame(index))
                if writable:
                    writable = _store(folder / f"{index:08d}.jpg", data)
                found[index] = _decode(data)
    return [found[i] for i in frames]


def thumbnail_folder(info: VideoInfo, height: int, cache_dir: Path | None = None) -> Path:
    key = hashlib.sha256(
        f"{content_fingerprint(Path(info.path))}:{info.stream_index}:{int(height)}:"
        f"{FORMAT_VERSION}".encode()).hexdigest()[:32]
    return (cache_dir or cache_root() / "thumbs") / key


class ThumbnailReader(VideoReader):
    """A :class:`VideoReader` whose frames come out scaled to ``width`` x ``height``."""

    def __init__(self, info: VideoInfo, width: int, height: int) -> None:
        super().__init__(info)
        self.size = (width, height)

    def to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        width, height = self.size
        quarter = (self.info.rotation // 90) % 4
        coded = (height, width) if quarter % 2 else (width, height)
        name = frame.format.name
        if name.startswith(("yuv", "nv", "p0", "p2")):
            # Scale in YUV (4:4:4 at the small size), then convert with the clip's own matrix
            # and range, as the viewer does, so a thumbnail has the viewer's colours.
            full = frame.color_range == RANGE_JPEG or name.startswith("yuvj")
            small = frame.reformat(width=coded[0], height=coded[1],
                                   format="yuvj444p" if full else "yuv444p",
                                   interpolation="AREA")
            planes = rotate_planes(frame_planes(small), self.info.rotation)
            return yuv_to_rgb(planes, self._spec)
        small = frame.reformat(width=coded[0], height=coded[1], format="rgb24",
                               interpolation="AREA").to_ndarray()
        if quarter:
            small = np.rot90(small, -quarter)  # rotation is clockwise, rot90 counter-clockwise
        return np.ascontiguousarray(small)


def _encode(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]),
                            [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding of a thumbnail failed")
    return data.tobytes()


def _decode(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr[..., ::-1])


def _read_cached(path: Path) -> np.ndarray | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if picture is None else np.ascontiguousarray(picture[..., ::-1])


def _prepare_folder(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return True
    except OSError as err:
        log.warning("thumbnails will not be cached (%s)", err)
        return False


def _store(path: Path, data: bytes) -> bool:
    try:
        # No fsync: a thumbnail lost in a crash is decoded again (an unreadable one too).
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return True
    except (OSError, OutputError) as err:  # costs speed next time, nothing else
        log.warning("thumbnails will not be cached (%s)", err)
        return False
