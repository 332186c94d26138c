from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from swaptalk_desktop.media import probe_video
from swaptalk_desktop.media.colour import (
    ColourSpec,
    _upsample_chroma,
    _yuv_to_rgb_matrix,
    colour_spec,
    frame_planes,
    rgb_to_yuv,
    yuv_to_rgb,
)


@pytest.mark.parametrize("name", ["hdtf_tedlieu_60s.mp4", "lp_d20_young_man.mp4",
                                  "may_5s.mp4", "latentsync_demo1_woman.mp4"])
def test_conversion_agrees_with_swscale(shared_data: Path, name: str) -> None:
    """Our matrix and range handling matches FFmpeg's for full/limited, BT.601/BT.709."""
    info = probe_video(shared_data / "videos/talking" / name)
    spec = info.colour
    sws_matrix = {1: 1, 6: 5}[spec.colorspace]  # SWS_CS_ITU709, SWS_CS_SMPTE170M
    with av.open(str(info.path)) as container:
        frame = next(container.decode(video=0))
    ours = yuv_to_rgb(frame_planes(frame), spec).astype(int)
    theirs = frame.to_ndarray(format="rgb24", src_colorspace=sws_matrix,
                              src_color_range=2 if spec.full_range else 1,
                              interpolation="POINT").astype(int)
    assert np.abs(ours - theirs).mean() < 1.5
    assert np.abs(ours - theirs).max() <= 4


@pytest.mark.parametrize("name", ["hdtf_tedlieu_60s.mp4", "may_5s.mp4", "lp_d10_woman.mp4",
                                  "vox_00098.mp4"])
def test_rgb_round_trip_within_two_levels(shared_data: Path, name: str) -> None:
    info = probe_video(shared_data / "videos/talking" / name)
    spec = info.colour
    with av.open(str(info.path)) as container:
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == 20)
    planes = frame_planes(frame)
    rgb = yuv_to_rgb(planes, spec)
    again = yuv_to_rgb(rgb_to_yuv(rgb, spec, chroma_420=True), spec)
    err = np.abs(again.astype(int) - rgb).max(axis=2)
    # Pixels whose YUV lies outside the RGB cube were clipped on decode and cannot come back
    # exactly; every 2x2 block that was inside round-trips within two levels.
    h, w = planes.y.shape
    yuv = cv2.merge([planes.y, _upsample_chroma(planes.u, (h, w)),
                     _upsample_chroma(planes.v, (h, w))]).astype(np.float32)
    exact = cv2.transform(yuv, _yuv_to_rgb_matrix(spec).astype(np.float32))
    inside = ((exact > -0.5) & (exact < 255.5)).all(axis=2)
    inside = inside.reshape(h // 2, 2, w // 2, 2).all(axis=(1, 3))
    inside = np.repeat(np.repeat(inside, 2, axis=0), 2, axis=1)
    assert inside.mean() > 0.9
    assert err[inside].max() <= 2
    assert (err > 2).mean() < 0.002


def test_synthetic_in_gamut_round_trip() -> None:
    rng = np.random.default_rng(3)
    # Smooth colours well inside the gamut, as 2x2 blocks of one chroma (like decoded video).
    base = rng.integers(40, 216, size=(16, 16, 3)).astype(np.uint8)
    rgb = cv2.resize(base, (64, 64), interpolation=cv2.INTER_LINEAR)
    for spec_args in ((1, False), (6, False), (6, True), (9, False)):
        spec = ColourSpec(*spec_args)
        decoded = yuv_to_rgb(rgb_to_yuv(rgb, spec, True), spec)
        again = yuv_to_rgb(rgb_to_yuv(decoded, spec, True), spec)
        assert np.abs(again.astype(int) - decoded).max() <= 2
        odd = decoded[:63, :63]
        assert np.abs(yuv_to_rgb(rgb_to_yuv(odd, spec, False), spec).astype(int)
                      - odd).max() <= 1


def test_untagged_guess_is_symmetric_in_orientation() -> None:
    assert colour_spec(2, 0, "yuv420p", 640, 480).colorspace == 6
    assert colour_spec(2, 0, "yuv420p", 1920, 1080).colorspace == 1
    for w, h in ((1000, 560), (700, 700), (1280, 720), (224, 224)):
        assert colour_spec(2, 0, "yuv420p", w, h) == colour_spec(2, 0, "yuv420p", h, w)
    assert colour_spec(2, 0, "yuvj420p", 64, 64).full_range
    assert colour_spec(1, 2, "yuv420p", 64, 64) == ColourSpec(1, True)
