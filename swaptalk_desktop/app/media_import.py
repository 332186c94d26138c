"""What the media bin learns about a file on import (runs on a worker thread, Qt-free)."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError, SwapTalkError
from ..core.project import MediaItem, video_summary
from ..media import VideoInfo, probe

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_FILTER = "*.mp4 *.mov *.m4v *.mkv *.avi *.webm *.mxf"
AUDIO_FILTER = "*.wav *.flac *.mp3 *.m4a *.aac *.ogg *.opus *.aif *.aiff"
PHOTO_FILTER = " ".join(f"*{s}" for s in sorted(PHOTO_SUFFIXES))


def _photo_summary(path: Path) -> dict:
    import cv2
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(f"cannot import {path.name}: not a readable image")
    return {"width": int(image.shape[1]), "height": int(image.shape[0])}


def describe_file(path: Path | str) -> tuple[MediaItem, VideoInfo | None]:
    """A new MediaItem (kind, fingerprint, display facts) for ``path`` and, for a video, the
    probe result (the timeline needs its frame table); InputError if the file is unusable."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cannot import {path}: file not found")
    if path.suffix.lower() in PHOTO_SUFFIXES:
        return MediaItem.from_file(path, "photo", _photo_summary(path)), None
    info = probe(path)
    if info.video is not None and not info.is_image:
        v = info.video
        return MediaItem.from_file(path, "video", video_summary(v)), v
    if info.is_image:
        return MediaItem.from_file(path, "photo", _photo_summary(path)), None
    if info.audio is not None:
        a = info.audio
        return MediaItem.from_file(path, "audio", {
            "duration_s": round(float(a.duration_s), 3), "sample_rate": a.sample_rate,
            "channels": a.channels}), None
    raise InputError(f"cannot import {path.name}: it has neither video nor audio")


def describe_files(paths: list[Path]) -> tuple[list[tuple[MediaItem, VideoInfo | None]],
                                               list[str]]:
    """(item, video info) for the usable files and one line for each unusable file, naming
    the file and why; one bad file never stops the others."""
    from .errors import user_message
    found, errors = [], []
    for path in paths:
        path = Path(path)
        try:
            found.append(describe_file(path))
        except SwapTalkError as err:
            errors.append(_naming(path, str(err)))
        except Exception as exc:  # a bug reading one file: logged, the others go on
            errors.append(_naming(path, user_message(exc, f"importing {path.name}")))
    return found, errors


def _naming(path: Path, line: str) -> str:
    line = " ".join(line.split())
    return line if path.name in line else f"{path.name}: {line}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m}:{s:05.2f}"
