"""Smart render's sound: the source's AAC packets, with only the stretch around new dialogue
encoded again.

AAC frames overlap (each packet's transform spans its neighbour's samples), so the new packets
cover the changed stretch plus two frames either side, encoded from the spliced sound with two
more frames of pre-roll so the first kept packet is in the encoder's steady state; the
packets outside are the source's bit for bit. Decoded, the sound differs from a full encode
only by coding noise in the one frame at each join. Anything that does not fit this (another
codec, rate or layout, an irregular packet grid, a change outside the source's track) returns
None and the caller encodes the whole sound as the full encode does.
"""

from __future__ import annotations

import logging
from fractions import Fraction

import av
import av.error
import numpy as np

from .audio import AudioClip
from .mux import _DEFAULT_LAYOUTS

log = logging.getLogger(__name__)

FRAME = 1024
_MARGIN = 2 * FRAME  # packets replaced beyond the change, each side
_PREROLL = 2 * FRAME  # samples fed to the encoder before the first kept packet


def plan_patch(stream: av.audio.AudioStream, packets: list[tuple[int, int]], clip: AudioClip,
               changes: list[tuple[float, float]], bitrate: int) -> dict[int, av.Packet] | None:
    """New packets by pts for the changed stretches, or None where copying cannot be done.

    ``packets`` are the source track's (pts, duration) in order; ``changes`` are seconds on the
    sound's clock (sample 0 of ``clip`` is the track's pts 0) where ``clip`` differs.
    """
    ctx = stream.codec_context
    rate = ctx.sample_rate
    if ctx.name != "aac" or stream.time_base != Fraction(1, rate) or \
            clip.sample_rate != rate or clip.channels != ctx.channels or \
            clip.channels not in _DEFAULT_LAYOUTS or not packets:
        return None
    pts = np.array([p for p, _ in packets], np.int64)
    if np.any(np.diff(pts) != FRAME) or any(d != FRAME for _, d in packets[:-1]) or \
            pts[0] not in (-FRAME, 0):
        return None
    end = int(pts[-1])
    windows = []
    for u0, u1 in sorted(changes):
        a = (int(np.floor(u0 * rate)) - _MARGIN) // FRAME * FRAME
        b = -(-(int(np.ceil(u1 * rate)) + _MARGIN) // FRAME) * FRAME
        if a < 0 or b > end - FRAME:
            return None  # at the track's ends: the whole sound is encoded instead
        if windows and a <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
        else:
            windows.append((a, b))
    out: dict[int, av.Packet] = {}
    try:
        for a, b in windows:
            for packet in _encode(clip, a, b, bitrate, bytes(ctx.extradata or b"")):
                out[int(packet.pts)] = packet
    except _Mismatch as err:
        log.info("%s; the whole sound is encoded", err)
        return None
    return out


class _Mismatch(Exception):
    pass


def _encode(clip: AudioClip, a: int, b: int, bitrate: int,
            extradata: bytes) -> list[av.Packet]:
    rate, layout = clip.sample_rate, _DEFAULT_LAYOUTS[clip.channels]
    enc = av.CodecContext.create("aac", "w")
    enc.sample_rate, enc.layout, enc.format = rate, layout, "fltp"
    enc.bit_rate = int(bitrate)
    enc.time_base = Fraction(1, rate)
    enc.open()
    if bytes(enc.extradata or b"") != extradata:
        raise _Mismatch("the AAC encoder's configuration differs from the source's")
    start, stop = a - _PREROLL, b + _PREROLL
    samples = np.zeros((stop - start, clip.channels), np.float32)
    lo, hi = max(0, start), min(stop, clip.samples.shape[0])
    samples[lo - start:hi - start] = clip.samples[lo:hi]
    planar = np.ascontiguousarray(np.clip(samples, -1.0, 1.0).T)
    packets: list[av.Packet] = []
    for k in range(0, planar.shape[1], FRAME):
        frame = av.AudioFrame.from_ndarray(planar[:, k:k + FRAME], format="fltp",
                                           layout=layout)
        frame.sample_rate, frame.time_base = rate, Fraction(1, rate)
        frame.pts = start + k
        packets.extend(enc.encode(frame))
    packets.extend(enc.encode(None))
    kept = [p for p in packets if p.pts is not None and a <= p.pts < b]
    if [int(p.pts) for p in kept] != list(range(a, b, FRAME)):
        raise _Mismatch("the AAC encoder's packets do not fall on the source's frame grid")
    return kept
