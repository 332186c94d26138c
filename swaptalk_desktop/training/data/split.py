"""Train / validation split: held-out identities, and held-out last seconds of every clip.

The automatic hold-out is chosen per source: the clips (``--videos`` and ``--stills``, one
group, as before images existed) and each ``--images`` folder on its own, so that the unseen
identities include photo-collection people as well as clip speakers, whatever their numbers.
"""

from __future__ import annotations

import hashlib
import math

from ...core.errors import InputError
from ...media.dataset_layout import (
    LOW_RES_EYE_PX,
    ClipRecord,
    DatasetIndex,
    DatasetLayout,
    classify_resolution,
)

AUTO_HOLDOUT_MIN_IDENTITIES = 5
"""Below this many identities nobody is held out automatically: every face is needed to train."""


def _unit_hash(name: str) -> float:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


CLIPS_GROUP = ""
"""Hold-out group of the identities with a video or a ``--stills`` photo."""


def holdout_groups(items: list[tuple[str, str, str]]) -> dict[str, str]:
    """identity -> hold-out group, from ``(identity, kind, origin)`` of every item: the clips
    group for anyone with a video or ``--stills`` photo, else their ``--images`` folder."""
    groups: dict[str, str] = {}
    for identity, kind, origin in sorted(items):
        legacy = kind == "video" or origin == "stills"
        if legacy:
            groups[identity] = CLIPS_GROUP
        else:
            groups.setdefault(identity, origin)
    return groups


def choose_holdout(identities: list[str], explicit: list[str] | None,
                   fraction: float, groups: dict[str, str] | None = None) -> list[str]:
    """The identities used for validation only.

    Automatic choice goes by a hash of each name, not by rank, so adding people to the dataset
    later never moves someone who was trained on into validation (or back). With ``groups``
    (identity -> group) it is made in every group on its own.
    """
    if groups is not None:
        members: dict[str, list[str]] = {}
        for ident in identities:
            members.setdefault(groups.get(ident, CLIPS_GROUP), []).append(ident)
        if not explicit:
            return sorted(h for group in sorted(members)
                          for h in choose_holdout(sorted(members[group]), None, fraction))
        # an explicit list decides the groups it names people of; a photo folder it does not
        # mention still gets its own hash-based hold-out, so held-out people always include
        # photo identities
        named = {groups.get(i, CLIPS_GROUP) for i in explicit}
        auto = [h for group in sorted(members) if group not in named
                for h in choose_holdout(sorted(members[group]), None, fraction)]
        return sorted(set(choose_holdout(identities, explicit, fraction)) | set(auto))
    if explicit:
        unknown = sorted(set(explicit) - set(identities))
        if unknown:
            # --images identities carry their folder's name: say so for a bare person name
            near = sorted(i for i in identities if i.split(":", 1)[-1] in set(unknown)
                          and ":" in i)
            hint = f"; did you mean {', '.join(near[:10])}?" if near else ""
            raise InputError(f"--holdout-identities names {', '.join(unknown)}, not in the "
                             f"dataset{hint}; known identities: {', '.join(identities[:20])}"
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
                partial: bool = False, *, exclude: set[str] | frozenset[str] = frozenset(),
                low_res_eye_px: float = LOW_RES_EYE_PX) -> DatasetIndex:
    """Rebuild ``dataset.json`` from every clip record in the folder and write it.

    ``partial``: an index written while clips are still being prepared, where a held-out
    person whose clips are not done yet is simply not there (the names were checked upfront).
    ``exclude``: record ids left out (photos outside this run's ``--max-images`` choice; their
    files stay, so a larger cap later reuses them).
    """
    records = [r for r in layout.read_records()
               if r.crop_size == crop_size and r.id not in exclude]
    usable = [r for r in records if r.status == "ok" and r.frames > 0]
    skipped = [{"id": r.id, "source": r.source, "reason": r.reason}
               for r in records if r.status != "ok"]
    identities = sorted({r.identity for r in usable})
    if partial and holdout:
        held = [h for h in holdout if h in identities]
        if set(held) >= set(identities):
            held = []
    else:
        groups = holdout_groups([(r.identity, r.kind, r.origin) for r in usable])
        held = choose_holdout(identities, holdout, holdout_fraction, groups) \
            if identities else []
    clips = [classify_resolution(assign_split(r, set(held), val_fraction), low_res_eye_px)
             for r in usable]
    index = DatasetIndex(root=layout.root, crop_size=crop_size, val_fraction=val_fraction,
                         holdout_identities=held, clips=clips, skipped=skipped,
                         low_res_eye_px=low_res_eye_px)
    index.write()
    return index
