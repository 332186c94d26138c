import numpy as np

from swaptalk_desktop.eval.tts import speak


def test_espeak_speaks_a_line_offline():
    samples, rate = speak("Thanks for watching.")
    assert rate == 22050 and samples.dtype == np.float32
    assert 0.6 < len(samples) / rate < 3.0
    frames = samples[: len(samples) // 441 * 441].reshape(-1, 441)
    loud = np.sqrt((frames**2).mean(axis=1)) > 0.02
    assert 0.3 < loud.mean() < 0.95, "speech has syllables and pauses, not a tone or silence"


def test_longer_text_takes_longer():
    short, rate = speak("Yes.")
    long, _ = speak("Yes, and then we went all the way down to the harbour to watch the boats.")
    assert len(long) > 3 * len(short)
