"""Media I/O: probing, frame-accurate decoding, audio, mel features and MP4 output.

Imports neither Qt nor torch. Images are RGB uint8 ``(H, W, 3)``, upright; frame positions are
0-based indices; audio is float32 ``[n, channels]``.
"""

from .audio import AudioClip, load_audio, remix, resample, to_mono_16k
from .colour import ColourSpec
from .decode import VideoReader
from .encode import write_clip
from .encoders import EncodeSettings, available_video_encoders, encoder_options
from .mel import SILENCE_DB_VALUE, log_mel, mel_windows
from .probe import AudioInfo, MediaInfo, VideoInfo, probe, probe_audio, probe_video
from .splice import dialogue_coverage, splice_audio
from .synthetic import make_test_clip

__all__ = [
    "SILENCE_DB_VALUE",
    "AudioClip",
    "AudioInfo",
    "ColourSpec",
    "EncodeSettings",
    "MediaInfo",
    "VideoInfo",
    "VideoReader",
    "available_video_encoders",
    "dialogue_coverage",
    "encoder_options",
    "load_audio",
    "log_mel",
    "make_test_clip",
    "mel_windows",
    "probe",
    "probe_audio",
    "probe_video",
    "remix",
    "resample",
    "splice_audio",
    "to_mono_16k",
    "write_clip",
]
