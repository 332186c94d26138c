"""Train / validation split: held-out identities, and held-out last seconds of every clip."""

from __future__ import annotations

import hashlib
import math

from ...core.errors import InputError
from .layout import ClipRecord, DatasetIndex, DatasetLayout

AUTO_HOLDOUT_MIN_IDENTITIES = 5
"""Below this many identities nobody is held out automatically: every face is needed to train."""


def _unit_hash(name: str) -> float:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def choose_holdout(identities: list[str], explicit: list[str] | None,
                   fraction: float) -> list[str]:
    """The identities used for validation only.

    Automatic choice goes by a hash of each name, not by rank, so adding people to the dataset
    later never moves someone who was trained on into validation (or back).
    """
    if explicit:
        unknown = sorted(set(explicit) - set(identities))
        if unknown:
            raise InputError(f"--holdout-identities names {', '.join(unknown)}, not in the "
                             f"dataset; known identities: {', '.join(identities[:20])}"
                             f"{' ...' if len(identities) > 20 else ''}")
        if set(explicit) >= set(identities):
            raise InputError("--holdout-identities holds out every identity; leave some to "
                             "train on")
        return sorted(set(explicit))
    if fraction <= 0 or len(identities) < AUTO_HOLDOUT_MIN_IDENTITIES:
        return []
    chosen = [i for i in identities if _unit_hash(i) < fraction]
    if not chosen:
        chosen = [min(identities, key=_unit_hash)]
    return sorted(chosen)


def assign_split(rec: ClipRecord, holdout: set[str], val_fraction: float) -> ClipRecord:
    n = rec.frames
    if rec.identity in holdout:
        rec.split, rec.train_range, rec.val_range = "val", [0, 0], [0, n]
        return rec
    rec.split = "train"
    n_val = 0 if rec.kind == "still" else min(int(math.ceil(n * val_fraction)), n - 1)
    n_val = max(n_val, 0)
    rec.train_range, rec.val_range = [0, n - n_val], [n - n_val, n]
    return rec


def build_index(layout: DatasetLayout, crop_size: int, val_fraction: float,
                holdout: list[str] | None, holdout_fraction: float,
                partial: bool = False) -> DatasetIndex:
    """Rebuild ``dataset.json`` from every clip record in the folder and write it.

    ``partial``: an index written while clips are still being prepared, where a held-out
    person whose clips are not done yet is simply not there (the names were checked upfront).
    """
    records = [r for r in layout.read_records() if r.crop_size == crop_size]
    usable = [r for r in records if r.status == "ok" and r.frames > 0]
    skipped = [{"id": r.id, "source": r.source, "reason": r.reason}
               for r in records if r.status != "ok"]
    identities = sorted({r.identity for r in usable})
    if partial and holdout:
        held = [h for h in holdout if h in identities]
        if set(held) >= set(identities):
            held = []
    else:
        held = choose_holdout(identities, holdout, holdout_fraction) if identities else []
    clips = [assign_split(r, set(held), val_fraction) for r in usable]
    index = DatasetIndex(root=layout.root, crop_size=crop_size, val_fraction=val_fraction,
                         holdout_identities=held, clips=clips, skipped=skipped)
    index.write()
    return index
