from __future__ import annotations

import numpy as np
import pytest

from swaptalk_desktop.media import SILENCE_DB_VALUE, log_mel, mel_windows
from swaptalk_desktop.media.mel import _hz_to_mel, _mel_to_hz, mel_filterbank

RATE = 16000


def test_shape_and_frame_rate() -> None:
    for n in (0, 1, 199, 200, 16000, 16123):
        mel = log_mel(np.zeros(n, np.float32))
        assert mel.shape == (80, 1 + n // 200) and mel.dtype == np.float32


def test_silence_is_minus_four() -> None:
    assert SILENCE_DB_VALUE == -4.0
    assert np.all(log_mel(np.zeros(RATE)) == SILENCE_DB_VALUE)


def test_tone_lights_its_mel_bin() -> None:
    t = np.arange(RATE) / RATE
    for freq in (440.0, 1000.0, 3000.0):
        mel = log_mel(0.5 * np.sin(2 * np.pi * freq * t))
        column = mel[:, 40]
        expected = int(np.argmax(mel_filterbank()[:, int(round(freq / 20))]))
        assert int(np.argmax(column)) == expected
        assert column.max() > 0 and np.median(column) < column.max() - 2
        assert np.all((mel >= -4) & (mel <= 4))


def test_filterbank_is_slaney() -> None:
    fb = mel_filterbank()
    assert fb.shape == (80, 401)
    centres = fb.argmax(axis=1)
    assert np.all(np.diff(centres) >= 0)
    assert centres[0] * 20 >= 55 and centres[-1] * 20 <= 7600
    # Slaney normalisation divides each triangle by its width: the wide bands above 1 kHz
    # are lower than the narrow ones below.
    assert fb[10].max() > fb[70].max()
    np.testing.assert_allclose(_mel_to_hz(_hz_to_mel(np.array([55.0, 999.0, 1000.0, 7600.0]))),
                               [55.0, 999.0, 1000.0, 7600.0])
    assert _hz_to_mel(np.array([1000.0]))[0] == pytest.approx(15.0)


def test_click_is_at_the_window_centre() -> None:
    wave = np.zeros(2 * RATE)
    wave[RATE] = 1.0  # a click at 1.0 s
    mel = log_mel(wave)
    assert int(np.argmax(mel.mean(axis=0))) == 80  # frame k is centred on sample 200 k
    windows = mel_windows(mel, np.array([1.0, 1.0 + 1 / 80, 0.5]))
    assert windows.shape == (3, 80, 16) and windows.dtype == np.float32
    energy = windows.mean(axis=1)
    assert int(np.argmax(energy[0])) == 8  # window // 2
    assert int(np.argmax(energy[1])) == 7
    assert np.all(windows[2] == SILENCE_DB_VALUE)


def test_windows_pad_with_silence_at_the_edges() -> None:
    rng = np.random.default_rng(0)
    mel = log_mel(rng.standard_normal(RATE).astype(np.float32) * 0.1)
    assert mel.min() > SILENCE_DB_VALUE  # noise is loud enough to be above the floor
    windows = mel_windows(mel, np.array([0.0, 0.995, 5.0, -1.0]), window=16)
    np.testing.assert_array_equal(windows[0][:, :8], SILENCE_DB_VALUE)
    np.testing.assert_array_equal(windows[0][:, 8:], mel[:, :8])
    last = mel.shape[1] - 1  # frame 80 is the last one of a 1 s wave
    assert round(0.995 * 80) == last
    np.testing.assert_array_equal(windows[1][:, : 8 + 1], mel[:, last - 8:])
    np.testing.assert_array_equal(windows[1][:, 9:], SILENCE_DB_VALUE)
    assert np.all(windows[2] == SILENCE_DB_VALUE) and np.all(windows[3] == SILENCE_DB_VALUE)
    odd = mel_windows(mel, np.array([0.5]), window=5)
    np.testing.assert_array_equal(odd[0], mel[:, 38:43])
