"""Waveform peak pyramids: exact min/max envelopes, level choice, disk cache, any audio source."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from swaptalk_desktop.core.cancel import CancelToken
from swaptalk_desktop.core.errors import Cancelled, InputError
from swaptalk_desktop.media import AudioClip, load_audio, make_test_clip
from swaptalk_desktop.media import waveform as waveform_module
from swaptalk_desktop.media.waveform import WaveformPyramid, cache_path, load_or_build_waveform

RATE = 48_000


def noisy_stereo(seconds: float, seed: int = 0) -> np.ndarray:
    """Bursts of noise with a slow swell, different in each channel."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    envelope = (np.sin(2 * np.pi * 1.3 * t) > 0) * (0.3 + 0.25 * np.sin(2 * np.pi * 0.2 * t))
    left = envelope * rng.standard_normal(n) * 0.3
    right = 0.5 * left + 0.1 * np.sin(2 * np.pi * 100 * t)
    return np.clip(np.stack([left, right], axis=1), -1, 1).astype(np.float32)


def expected_peaks(mono: np.ndarray, size: int, i0: int, i1: int):
    spans = [mono[i * size:(i + 1) * size] for i in range(i0, i1)]
    return np.array([s.min() for s in spans]), np.array([s.max() for s in spans])


@pytest.fixture
def flac(tmp_path):
    samples = noisy_stereo(21.3)
    path = tmp_path / "take.flac"
    sf.write(path, samples, RATE, subtype="PCM_24")
    decoded = load_audio(path).samples  # what the file holds after 24-bit quantisation
    return path, decoded.mean(axis=1, dtype=np.float32)


def test_window_peaks_are_the_exact_envelope_at_every_zoom(flac):
    path, mono = flac
    pyramid = load_or_build_waveform(path)
    assert pyramid.sample_rate == RATE and pyramid.n_samples == len(mono)
    assert math.isclose(pyramid.duration_s, len(mono) / RATE)
    for t0, t1 in [(0.0, 21.3), (3.0, 13.0), (7.25, 8.25), (10.0, 10.05), (20.9, 21.3)]:
        times, mins, maxs = pyramid.window(t0, t1, 1500)
        level = pyramid.level_for(t0, t1, 1500)
        size = pyramid.samples_per_peak(level)
        per_pixel = (min(t1, pyramid.duration_s) - t0) * RATE / size / 1500
        assert 1 <= per_pixel < 2 or level == 0, (t0, t1, per_pixel)
        i0 = int(round(times[0] * RATE / size))
        assert np.allclose(times, np.arange(i0, i0 + len(times)) * size / RATE)
        assert times[0] <= t0 < times[0] + size / RATE  # starts with the peak holding t0
        assert times[-1] < t1 <= times[-1] + size / RATE + 1e-9  # and stops with t1's
        lo, hi = expected_peaks(mono, size, i0, i0 + len(times))
        assert np.abs(mins - lo).max() <= 1 / 32767 + 1e-6
        assert np.abs(maxs - hi).max() <= 1 / 32767 + 1e-6


def test_window_outside_the_track_is_empty_and_edges_are_clamped(flac):
    path, _ = flac
    pyramid = load_or_build_waveform(path)
    assert all(len(a) == 0 for a in pyramid.window(30.0, 40.0, 800))
    assert all(len(a) == 0 for a in pyramid.window(5.0, 5.0, 800))
    times, _, _ = pyramid.window(-5.0, 1.0, 800)
    assert times[0] == 0.0
    whole = pyramid.window(0, 1e9, 100)
    assert len(whole[0]) >= 100 and whole[0][-1] < pyramid.duration_s


def test_second_load_reads_the_cache_without_decoding(flac, monkeypatch):
    path, _ = flac
    calls = []
    first = load_or_build_waveform(path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] == first.n_samples
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert cache_path(path, RATE).exists()

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the peaks were cached")

    monkeypatch.setattr(waveform_module, "_build", no_decoding)
    again = load_or_build_waveform(path)
    assert again.levels == first.levels and again.n_samples == first.n_samples
    for a, b in zip(first.mins + first.maxs, again.mins + again.maxs, strict=True):
        assert np.array_equal(a, b)
    # The key is the content: a copy elsewhere hits the cache, a changed file does not.
    copy = path.with_name("moved.flac")
    copy.write_bytes(path.read_bytes())
    load_or_build_waveform(copy)
    sf.write(path, noisy_stereo(21.3, seed=5), RATE, subtype="PCM_24")
    with pytest.raises(AssertionError, match="decoded although"):
        load_or_build_waveform(path)


def test_cancelled_build_caches_nothing(flac, monkeypatch):
    path, _ = flac
    monkeypatch.setattr(waveform_module, "_BLOCK", 1 << 16)
    token = CancelToken()

    def cancel_midway(done, total):
        if done > total // 3:
            token.cancel()

    with pytest.raises(Cancelled):
        load_or_build_waveform(path, progress=cancel_midway, cancel=token)
    assert not cache_path(path, RATE).exists()


def test_small_blocks_give_the_same_pyramid_as_one_pass(flac, monkeypatch):
    path, mono = flac
    monkeypatch.setattr(waveform_module, "_BLOCK", 1000)  # not a multiple of the peak size
    streamed = load_or_build_waveform(path, cache_dir=path.parent / "c1")
    whole = WaveformPyramid.from_samples(mono, RATE)
    assert streamed.levels == whole.levels
    for a, b in zip(streamed.mins + streamed.maxs, whole.mins + whole.maxs, strict=True):
        assert np.array_equal(a, b)


def test_video_audio_track_and_compressed_files(tmp_path):
    samples = noisy_stereo(2.0)
    frames = np.full((50, 32, 48, 3), 90, np.uint8)
    video = make_test_clip(tmp_path / "v.mp4", frames, audio=AudioClip(samples, RATE))
    decoded = load_audio(video).samples.mean(axis=1, dtype=np.float32)
    pyramid = load_or_build_waveform(video)
    assert pyramid.n_samples == len(decoded)
    times, mins, maxs = pyramid.window(0.5, 1.5, 200)
    size = pyramid.samples_per_peak(pyramid.level_for(0.5, 1.5, 200))
    i0 = int(round(times[0] * RATE / size))
    lo, hi = expected_peaks(decoded, size, i0, i0 + len(times))
    assert np.abs(mins - lo).max() <= 2 / 32767 and np.abs(maxs - hi).max() <= 2 / 32767
    assert maxs.max() > 0.2  # the bursts are there, not a silent track


def test_inputs_without_audio_are_refused_in_one_line(tmp_path):
    silent_video = make_test_clip(tmp_path / "mute.mp4", np.zeros((5, 32, 32, 3), np.uint8))
    with pytest.raises(InputError, match="mute.mp4 has no audio stream") as err:
        load_or_build_waveform(silent_video)
    assert "\n" not in str(err.value)
    photo = tmp_path / "p.png"
    photo.write_bytes(b"not really")
    with pytest.raises(InputError, match="is an image"):
        load_or_build_waveform(photo)
    with pytest.raises(InputError, match="does not exist"):
        load_or_build_waveform(tmp_path / "gone.wav")


def test_bench_waveform_command_prints_a_table_and_saves_json(tmp_path, capsys):
    from swaptalk_desktop.cli import main
    out = tmp_path / "wf.json"
    assert main(["bench", "waveform", "--minutes", "0.2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["audio"]["seconds"] == 12.0
    assert result["first_build_s"] > 0 and result["cached_load_s"] > 0
    assert [r["pixels"] for r in result["window"]] == [1500] * 5
    assert all(r["peaks"] <= 2 * 1500 and r["median_ms"] > 0 for r in result["window"])
    assert "cached load" in capsys.readouterr().out
