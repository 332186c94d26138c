"""Batches are pure functions of (seed, step, micro-batch, rank) and respect the splits."""

from __future__ import annotations

import numpy as np
from training_data_helpers import tiny_dataset

from swaptalk_desktop.media.dataset_layout import ClipRecord, DatasetLayout, load_index
from swaptalk_desktop.training.data.dataset import CropBatches, FrameStore
from swaptalk_desktop.training.data.windows import (
    REFERENCE_GAP,
    ClipLatents,
    SwapPairs,
    WindowBatches,
)


def test_crop_batches_deterministic_per_step_and_rank(tmp_path_factory):
    index = load_index(tiny_dataset(tmp_path_factory))
    a = CropBatches(index, "train", seed=3, flip=True)
    b = CropBatches(index, "train", seed=3, flip=True)
    x0, refs0 = a.batch(7, 8)
    assert x0.shape == (8, 64, 64, 3)
    assert np.array_equal(x0, b.batch(7, 8)[0])            # same step, fresh sampler
    assert not np.array_equal(x0, a.batch(8, 8)[0])        # next step
    assert not np.array_equal(x0, a.batch(7, 8, rank=1)[0])  # another rank
    assert all(r.frame < 56 for r in refs0)                 # training range only
    val = CropBatches(index, "val", seed=3)
    _, vrefs = val.fixed(40)
    assert all(r.frame >= 56 for r in vrefs) and len(vrefs) == 38
    assert np.array_equal(val.fixed(5)[0], val.fixed(5)[0])


def test_small_ram_budget_visits_clips_in_groups(tmp_path_factory):
    index = load_index(tiny_dataset(tmp_path_factory))
    one_clip = 75 * 64 * 64 * 3
    store = FrameStore(DatasetLayout(index.root), budget_bytes=int(1.5 * one_clip))
    batches = CropBatches(index, "train", seed=0, store=store)
    assert batches.schedule.grouped and batches.schedule.group_size == 1
    for step in range(40):
        _, refs = batches.batch(step, 4)
        assert len({r.clip for r in refs}) == 1  # one clip per group of steps
    assert store.decodes <= 2  # 40 steps within one 500-step group: decoded once


def _clip(identity: str, n: int, gap_at: int | None = None, seed: int = 0) -> ClipLatents:
    rng = np.random.default_rng(seed)
    source = np.arange(n) + (np.arange(n) >= gap_at) * 3 if gap_at else np.arange(n)
    rec = ClipRecord(id=identity, kind="video", identity=identity, source="", source_size=0,
                     source_mtime_ns=0, crop_size=64, frames=n)
    return ClipLatents(rec, rng.integers(0, 32, (n, 4, 4)), source / 25.0, source,
                       rng.uniform(-4, 4, (80, int(n / 25 * 80) + 20)).astype(np.float32), 0, n)


def test_windows_are_consecutive_with_far_references():
    clip = _clip("a", 60, gap_at=30)
    wb = WindowBatches([clip], frames=5, mel_window=16, seed=0)
    starts = wb.starts[0]
    assert 26 not in starts and 25 in starts and 30 in starts  # no window across the gap
    batch = wb.sync_batch(0, 16)
    assert batch["codes"].shape == (16, 5, 4, 4) and batch["reference"].shape == (16, 4, 4)
    assert batch["mel"].shape == (16, 5, 1, 80, 16)
    assert batch["expert_mel"].shape == (16, 1, 80, 16)
    rng = np.random.default_rng(0)
    for k in starts[:10]:
        r = wb._reference(rng, clip, int(k))
        assert abs(r - (k + 2)) > REFERENCE_GAP
    ex = wb.expert_batch(3, 8)
    assert ex["label"].tolist() == [1, 0] * 4
    pairs = wb.expert_pairs(6)
    assert np.array_equal(pairs["pos"]["codes"], pairs["neg"]["codes"])  # same windows
    assert not np.allclose(pairs["pos"]["mel"], pairs["neg"]["mel"])     # other audio


def test_swap_pairs_cross_identities():
    clips = [_clip("a", 30, seed=1), _clip("b", 30, seed=2), _clip("b", 20, seed=3)]
    pairs = SwapPairs(clips, seed=0, same_fraction=0.25)
    batch = pairs.batch(0, 64)
    assert batch["target"].shape == (64, 4, 4) and 0 < batch["same"].sum() < 64
    fixed = pairs.fixed(16, same_fraction=0.0)
    assert not fixed["same"].any()
    assert np.array_equal(pairs.batch(5, 8, rank=1)["target"], pairs.batch(5, 8, rank=1)["target"])
