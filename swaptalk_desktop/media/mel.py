"""Wav2Lip's log-mel spectrogram, reimplemented with numpy/scipy (no librosa).

Recipe (Wav2Lip ``audio.py`` with its ``hparams``): pre-emphasis 0.97, STFT with n_fft 800,
hop 200 and an 800-sample periodic Hann window, magnitude, 80 Slaney mel bands between 55 and
7600 Hz with Slaney area normalisation, ``20*log10(max(1e-5, x)) - 20``, then mapped from
[-100, 0] dB to [-4, 4] and clipped.

Framing: like ``librosa.stft(center=True)`` the signal is padded by n_fft/2 = 400 samples on
each side, so mel frame ``k`` is centred on sample ``200 * k`` (time ``k / 80`` s) and a wave of
``n`` samples gives ``1 + n // 200`` frames. The padding is zeros (librosa >= 0.10's default)
rather than the reflection of librosa 0.7 that Wav2Lip ran on, so nothing that is not in the
wave (a mirrored copy of the first syllable) shows up in the edge frames. :func:`mel_windows`
relies on this centring.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.signal import get_window, lfilter

SAMPLE_RATE = 16_000
N_FFT = 800
HOP = 200
WIN = 800
N_MELS = 80
FMIN = 55.0
FMAX = 7600.0
PREEMPHASIS = 0.97
REF_LEVEL_DB = 20.0
MIN_LEVEL_DB = -100.0
MAX_ABS_VALUE = 4.0
MEL_FPS = SAMPLE_RATE / HOP  # 80 mel frames per second

SILENCE_DB_VALUE = -MAX_ABS_VALUE
"""The normalised value of silence (and of anything quieter than -100 dB): -4."""


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa's htk=False)."""
    hz = np.asarray(hz, np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    linear = hz / f_sp
    log_part = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)),
                    f_sp * mel)


@cache
def mel_filterbank() -> np.ndarray:
    """float64 ``[80, n_fft // 2 + 1]`` triangular filters, Slaney-normalised (librosa's)."""
    fft_freqs = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    mel_points = np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2)
    hz_points = _mel_to_hz(mel_points)
    fdiff = np.diff(hz_points)
    ramps = hz_points[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]
    weights.setflags(write=False)
    return weights


@cache
def _window() -> np.ndarray:
    return get_window("hann", WIN, fftbins=True)


def log_mel(wave16k: np.ndarray) -> np.ndarray:
    """float32 ``[80, 1 + len(wave) // 200]`` normalised log-mel of a 16 kHz mono wave."""
    wave = np.asarray(wave16k, np.float64).reshape(-1)
    emphasised = lfilter([1.0, -PREEMPHASIS], [1.0], wave) if len(wave) else wave
    padded = np.pad(emphasised, (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + len(wave) // HOP
    # Frame k covers padded[200k : 200k + 800], centred on wave sample 200k.
    needed = (n_frames - 1) * HOP + N_FFT
    if len(padded) < needed:
        padded = np.pad(padded, (0, needed - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    spectrum = np.abs(np.fft.rfft(frames * _window(), axis=1))
    mel = mel_filterbank() @ spectrum.T
    min_level = 10.0 ** (MIN_LEVEL_DB / 20.0)
    db = 20.0 * np.log10(np.maximum(min_level, mel)) - REF_LEVEL_DB
    normalised = 2 * MAX_ABS_VALUE * ((db - MIN_LEVEL_DB) / -MIN_LEVEL_DB) - MAX_ABS_VALUE
    return np.clip(normalised, -MAX_ABS_VALUE, MAX_ABS_VALUE).astype(np.float32)


def mel_frame_at(time_s: float | np.ndarray) -> np.ndarray:
    """Index of the mel frame centred nearest to ``time_s`` (halves round up)."""
    return np.floor(np.asarray(time_s, np.float64) * MEL_FPS + 0.5).astype(np.int64)


def mel_windows(mel: np.ndarray, times_s: np.ndarray, window: int = 16) -> np.ndarray:
    """float32 ``[N, 80, window]``: frames ``k - window//2 .. k + window - window//2 - 1``
    around ``k = mel_frame_at(t)`` for each time, silence (-4) where outside ``mel``."""
    times = np.atleast_1d(np.asarray(times_s, np.float64))
    starts = mel_frame_at(times) - window // 2
    idx = starts[:, None] + np.arange(window)[None, :]
    inside = (idx >= 0) & (idx < mel.shape[1])
    gathered = mel[:, np.clip(idx, 0, max(mel.shape[1] - 1, 0))] if mel.shape[1] else \
        np.full((mel.shape[0], *idx.shape), SILENCE_DB_VALUE, np.float32)
    out = np.where(inside[None], gathered, np.float32(SILENCE_DB_VALUE))
    return np.ascontiguousarray(out.transpose(1, 0, 2), dtype=np.float32)
