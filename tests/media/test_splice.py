from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from media_helpers import tone

from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.media import AudioClip, dialogue_coverage, splice_audio


def _click(seconds: float, rate: int, channels: int, at: float) -> AudioClip:
    samples = np.zeros((int(round(seconds * rate)), channels), np.float32)
    samples[int(round(at * rate))] = 0.9
    return AudioClip(samples, rate)


def _noise(seconds: float, rate: int, channels: int, seed: int = 0) -> AudioClip:
    rng = np.random.default_rng(seed)
    return AudioClip((rng.standard_normal((int(seconds * rate), channels)) * 0.05)
                     .astype(np.float32), rate)


@pytest.mark.parametrize("src_rate,dlg_rate", [(48000, 16000), (44100, 48000),
                                               (16000, 44100), (48000, 48000)])
@pytest.mark.parametrize("src_ch,dlg_ch", [(2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("offset", [0.25, -0.4, 0.0])
def test_click_lands_where_it_should(src_rate: int, dlg_rate: int, src_ch: int, dlg_ch: int,
                                     offset: float) -> None:
    t0, t1, u = 1.0, 3.0, 0.8
    source = AudioClip(np.zeros((4 * src_rate, src_ch), np.float32), src_rate)
    dialogue = _click(2.0, dlg_rate, dlg_ch, at=u)
    out = splice_audio(source, dialogue, t0=t0, t1=t1, offset=offset, total_duration=4.0)
    assert (out.sample_rate, out.channels) == (src_rate, src_ch)
    assert out.samples.shape == (4 * src_rate, src_ch)
    peak = int(np.argmax(np.abs(out.samples[:, 0])))
    assert abs(peak - (t0 + offset + u) * src_rate) <= 1
    assert np.abs(out.samples).max() > 0.3


def test_source_is_bit_exact_away_from_the_seams() -> None:
    source = _noise(5.0, 44100, 2)
    dialogue = _noise(3.0, 44100, 2, seed=1)
    t0, t1, fade = 1.5, 3.5, 0.02
    out = splice_audio(source, dialogue, t0=t0, t1=t1, offset=0.0, total_duration=5.0,
                       crossfade=fade)
    rate = 44100
    before = int((t0 - fade / 2) * rate) - 1
    after = int((t1 + fade / 2) * rate) + 2
    np.testing.assert_array_equal(out.samples[:before], source.samples[:before])
    np.testing.assert_array_equal(out.samples[after:], source.samples[after:])
    inside = slice(int((t0 + fade) * rate), int((t1 - fade) * rate))
    np.testing.assert_array_equal(out.samples[inside],
                                  dialogue.samples[inside.start - int(t0 * rate):
                                                   inside.stop - int(t0 * rate)])


def test_no_click_at_the_seams() -> None:
    rate = 48000
    source = tone(4.0, rate, 1, freq=220.0, amplitude=0.5)
    dialogue = AudioClip(-tone(4.0, rate, 1, freq=330.0, amplitude=0.5).samples, rate)
    smooth = splice_audio(source, dialogue, t0=1.0, t1=2.5, offset=-0.123,
                          total_duration=4.0)
    hard = splice_audio(source, dialogue, t0=1.0, t1=2.5, offset=-0.123, total_duration=4.0,
                        crossfade=0.0)
    # The largest step between samples of either sine is 2*pi*f*A/rate.
    natural = 2 * math.pi * 330 * 0.5 / rate
    assert np.abs(np.diff(smooth.samples[:, 0])).max() < 1.5 * natural
    assert np.abs(np.diff(hard.samples[:, 0])).max() > 5 * natural
    # Equal power: the crossfade keeps uncorrelated noise at the same loudness.
    a, b = _noise(4.0, rate, 1, 1), _noise(4.0, rate, 1, 2)
    mixed = splice_audio(a, b, t0=2.0, t1=3.0, total_duration=4.0, crossfade=0.2)
    seam = mixed.samples[int(1.95 * rate): int(2.05 * rate), 0]
    assert np.sqrt(np.mean(seam ** 2)) == pytest.approx(0.05, rel=0.1)


def test_short_dialogue_leaves_silence_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    source = _noise(3.0, 16000, 1)
    dialogue = _noise(0.5, 16000, 1, seed=3)
    with caplog.at_level(logging.WARNING):
        out = splice_audio(source, dialogue, t0=1.0, t1=2.5, offset=0.2, total_duration=3.0,
                           crossfade=0.0)
    assert "covers only part of the range" in caplog.text
    assert np.all(out.samples[16000:19200] == 0)          # before the file starts
    assert np.any(out.samples[19200:27200] != 0)          # the file
    assert np.all(out.samples[27200:40000] == 0)          # after it ends
    np.testing.assert_array_equal(out.samples[40000:], source.samples[40000:])
    assert dialogue_coverage(0.5, t0=1.0, t1=2.5, offset=0.2) == pytest.approx((0.2, 0.8))
    assert dialogue_coverage(5.0, t0=1.0, t1=2.5, offset=-1.0) == (0.0, 0.0)


def test_missing_tracks_and_lengths() -> None:
    dialogue = _noise(1.0, 22050, 2)
    only_dialogue = splice_audio(None, dialogue, t0=0.5, t1=1.5, total_duration=2.0,
                                 crossfade=0.0)
    assert (only_dialogue.sample_rate, only_dialogue.channels) == (22050, 2)
    assert np.all(only_dialogue.samples[:11025] == 0)
    np.testing.assert_array_equal(only_dialogue.samples[11025:33075], dialogue.samples)
    source = _noise(1.0, 16000, 1)
    muted = splice_audio(source, None, t0=0.25, t1=0.5, total_duration=1.5, crossfade=0.0,
                         rate=48000, channels=2)
    assert muted.samples.shape == (72000, 2)
    assert np.all(muted.samples[12000:24000] == 0)
    assert np.all(muted.samples[48000 + 100:] == 0)        # padded past the source's end
    assert np.any(muted.samples[:12000] != 0)
    shorter = splice_audio(source, None, t0=0.1, t1=0.2, total_duration=0.5)
    assert shorter.samples.shape == (8000, 1)
    with pytest.raises(InputError, match="empty"):
        splice_audio(source, dialogue, t0=0.5, t1=0.5, total_duration=1.0)
