from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile
from media_helpers import AUDIO_FILES, one_line, pattern_frames, tone

from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.media import (
    AudioClip,
    load_audio,
    make_test_clip,
    remix,
    resample,
    to_mono_16k,
)


def _ffmpeg_f32(ffmpeg_exe: str, path: Path, channels: int) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe, "-v", "error", "-i", str(path), "-vn", "-f", "f32le",
                          "-acodec", "pcm_f32le", "-"], capture_output=True, check=True,
                         timeout=120).stdout
    return np.frombuffer(raw, np.float32).reshape(-1, channels)


@pytest.mark.parametrize("path", AUDIO_FILES, ids=[p.name for p in AUDIO_FILES])
def test_shared_audio_matches_ffmpeg(path: Path, ffmpeg_exe: str) -> None:
    clip = load_audio(path)
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 2
    reference = _ffmpeg_f32(ffmpeg_exe, path, clip.channels)
    assert abs(len(reference) - len(clip.samples)) <= 0.01 * clip.sample_rate
    n = min(len(reference), len(clip.samples))
    np.testing.assert_array_equal(clip.samples[:n], reference[:n])


def test_audio_track_of_a_video(shared_data: Path, ffmpeg_exe: str) -> None:
    path = shared_data / "videos/talking/vr_man_suit.mp4"
    clip = load_audio(path)
    assert (clip.sample_rate, clip.channels) == (44100, 2)
    assert clip.duration_s == pytest.approx(6.107, abs=0.01)
    np.testing.assert_array_equal(clip.samples, _ffmpeg_f32(ffmpeg_exe, path, 2))


def test_not_audio(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lp_d13_man_selfie.mp4 has no audio stream") as err:
        load_audio(shared_data / "videos/no_audio/lp_d13_man_selfie.mp4")
    assert one_line(str(err.value))
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), pattern_frames(1)[0])
    with pytest.raises(InputError, match="photo.jpg is an image, not an audio file"):
        load_audio(photo)
    text = tmp_path / "speech.wav"
    text.write_text("this is not a wave file\n" * 100)
    with pytest.raises(InputError, match="speech.wav is not an audio file we can read") as err:
        load_audio(text)
    assert one_line(str(err.value))
    with pytest.raises(InputError, match="does not exist"):
        load_audio(tmp_path / "missing.m4a")


def test_silent_track_is_loaded(shared_data: Path) -> None:
    clip = load_audio(shared_data / "videos/no_audio/lp_d3_woman_expressions.mp4")
    assert clip.channels == 2 and clip.duration_s > 11
    assert np.abs(clip.samples).max() < 1e-3


@pytest.mark.parametrize("subtype,suffix,tolerance", [("PCM_16", ".wav", 0.0),
                                                      ("PCM_24", ".flac", 0.0),
                                                      ("FLOAT", ".wav", 0.0)])
def test_wav_and_flac_exact(tmp_path: Path, subtype: str, suffix: str,
                            tolerance: float) -> None:
    rng = np.random.default_rng(0)
    data = np.round(rng.uniform(-0.5, 0.5, (4000, 2)) * 32767) / 32768
    path = tmp_path / f"x{suffix}"
    soundfile.write(path, data, 22050, subtype=subtype)
    clip = load_audio(path)
    assert clip.sample_rate == 22050 and clip.samples.shape == (4000, 2)
    np.testing.assert_allclose(clip.samples, data.astype(np.float32), atol=tolerance)


def test_audio_of_generated_clip(tmp_path: Path) -> None:
    path = make_test_clip(tmp_path / "c.mp4", pattern_frames(25), audio=tone(1.0, 44100, 1))
    clip = load_audio(path)
    assert clip.sample_rate == 44100 and clip.channels == 1
    assert clip.duration_s == pytest.approx(1.0, abs=0.03)


def _peak_hz(wave: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.argmax(spectrum) * rate / len(wave))


def test_to_mono_16k() -> None:
    stereo = tone(2.0, 44100, 2, freq=1000.0, amplitude=0.5)
    mono = to_mono_16k(stereo)
    assert mono.dtype == np.float32 and mono.ndim == 1
    assert len(mono) == 32000
    assert _peak_hz(mono, 16000) == pytest.approx(1000.0, abs=1.0)
    assert np.abs(mono[1000:-1000]).max() == pytest.approx(0.5, abs=0.01)
    # Content above 8 kHz is filtered out, not folded back into the speech band.
    assert np.abs(to_mono_16k(tone(1.0, 48000, 1, freq=12000.0))[500:-500]).max() < 0.01


def test_resample_and_channel_mapping() -> None:
    left = tone(1.0, 48000, 1, freq=300.0).samples[:, 0]
    stereo = AudioClip(np.stack([left, np.zeros_like(left)], axis=1), 48000)
    mono = resample(stereo, 48000, 1)
    np.testing.assert_allclose(mono.samples[:, 0], left / 2, atol=1e-7)
    up = resample(AudioClip(left[:, None].copy(), 48000), 44100, 2)
    assert up.sample_rate == 44100 and up.samples.shape == (44100, 2)
    np.testing.assert_array_equal(up.samples[:, 0], up.samples[:, 1])
    assert _peak_hz(up.samples[:, 0], 44100) == pytest.approx(300.0, abs=1.0)
    assert up.samples.dtype == np.float32
    surround = np.zeros((10, 6), np.float32)
    surround[:, 2] = 1.0  # centre only: both sides get it equally
    down = remix(surround, 2)
    assert down.shape == (10, 2) and np.all(down[:, 0] == down[:, 1]) and down[0, 0] > 0
    with pytest.raises(ValueError):
        AudioClip(np.zeros(10, np.float32), 16000)
