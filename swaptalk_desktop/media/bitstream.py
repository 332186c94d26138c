"""The few H.264/HEVC bitstream facts smart render needs: NAL units, avcC/hvcC records, ids.

Packets in MP4 are length-prefixed NAL units; encoders without a global header give Annex B
(start codes). Decoder configuration records (avcC for H.264, hvcC for HEVC) hold the
parameter sets of the sample entry. Nothing here decodes pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

H264_IDR = 5
H264_SEI, H264_SPS, H264_PPS, H264_AUD = 6, 7, 8, 9
HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_AUD = 32, 33, 34, 35
HEVC_IDR = (19, 20)  # IDR_W_RADL, IDR_N_LP
HEVC_IRAP = range(16, 24)


def nal_type(codec: str, nal: bytes) -> int:
    return (nal[0] >> 1) & 0x3F if codec == "hevc" else nal[0] & 0x1F


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B buffer (start codes 00 00 01 / 00 00 00 01)."""
    starts = []
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    nals = []
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nal = data[s:end]
        if k + 1 < len(starts):
            nal = nal.rstrip(b"\x00")  # trailing zero of a 4-byte start code
        if nal:
            nals.append(nal)
    return nals


def split_length_prefixed(data: bytes, length_size: int) -> list[bytes]:
    nals, i = [], 0
    while i + length_size <= len(data):
        n = int.from_bytes(data[i:i + length_size], "big")
        i += length_size
        if n:
            nals.append(data[i:i + n])
        i += n
    return nals


def join_length_prefixed(nals: list[bytes], length_size: int) -> bytes:
    return b"".join(len(n).to_bytes(length_size, "big") + n for n in nals)


def first_vcl_type(codec: str, nals: list[bytes]) -> int | None:
    """The NAL type of the first slice (VCL NAL unit) of a packet."""
    for nal in nals:
        t = nal_type(codec, nal)
        if (codec == "hevc" and t < 32) or (codec != "hevc" and 1 <= t <= 5):
            return t
    return None


def rbsp(nal: bytes) -> bytes:
    """The NAL payload without emulation prevention bytes (00 00 03 -> 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.size = len(data) * 8
        self.pos = 0

    def u(self, n: int) -> int:
        self.pos += n
        if self.pos > self.size:
            raise ValueError("bitstream ends early")
        return (self.value >> (self.size - self.pos)) & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)


def h264_sps_id(sps: bytes) -> int:
    bits = _Bits(rbsp(sps[1:8]))
    bits.u(24)  # profile_idc, constraint flags, level_idc
    return bits.ue()


def h264_pps_id(pps: bytes) -> int:
    return _Bits(rbsp(pps[1:8])).ue()


@dataclass
class AvcConfig:
    """An avcC record: profile/level of its first SPS, NAL length size, SPS and PPS lists."""

    header: bytes  # version, profile, compatibility, level, length size byte
    sps: list[bytes]
    pps: list[bytes]
    tail: bytes  # chroma format / bit depth / SPS extensions of high profiles

    @property
    def length_size(self) -> int:
        return (self.header[4] & 3) + 1

    @property
    def profile_idc(self) -> int:
        return self.header[1]

    @property
    def level_idc(self) -> int:
        return self.header[3]

    @classmethod
    def parse(cls, data: bytes) -> AvcConfig:
        if len(data) < 7 or data[0] != 1:
            raise ValueError("not an avcC record")
        i, sps, pps = 6, [], []
        for _ in range(data[5] & 0x1F):
            n = int.from_bytes(data[i:i + 2], "big")
            sps.append(data[i + 2:i + 2 + n])
            i += 2 + n
        count = data[i]
        i += 1
        for _ in range(count):
            n = int.from_bytes(data[i:i + 2], "big")
            pps.append(data[i + 2:i + 2 + n])
            i += 2 + n
        if i > len(data):
            raise ValueError("avcC record ends early")
        return cls(data[:5], sps, pps, data[i:])

    def to_bytes(self) -> bytes:
        out = bytearray(self.header)
        out.append(0xE0 | len(self.sps))
        for s in self.sps:
            out += len(s).to_bytes(2, "big") + s
        out.append(len(self.pps))
        for p in self.pps:
            out += len(p).to_bytes(2, "big") + p
        return bytes(out + self.tail)


@dataclass
class HevcConfig:
    """An hvcC record: its NAL length size and the parameter sets of each array."""

    length_size: int
    arrays: dict[int, list[bytes]]

    @classmethod
    def parse(cls, data: bytes) -> HevcConfig:
        if len(data) < 23 or data[0] != 1:
            raise ValueError("not an hvcC record")
        length_size = (data[21] & 3) + 1
        i, arrays = 23, {}
        for _ in range(data[22]):
            kind = data[i] & 0x3F
            count = int.from_bytes(data[i + 1:i + 3], "big")
            i += 3
            for _ in range(count):
                n = int.from_bytes(data[i:i + 2], "big")
                arrays.setdefault(kind, []).append(data[i + 2:i + 2 + n])
                i += 2 + n
        return cls(length_size, arrays)

    def parameter_sets(self) -> list[bytes]:
        return [n for kind in (HEVC_VPS, HEVC_SPS, HEVC_PPS) for n in self.arrays.get(kind, [])]
