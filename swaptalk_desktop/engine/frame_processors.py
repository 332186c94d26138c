"""Frame processors from plugins: ordered, opt-in stages on the generated face crops.

An edit lists processor ids (``EditOptions.processors``; ``swaptalk render --processor ID``;
Process ▸ Face Processors in the editor). Each runs, in that order, on the batch of generated
crops before they are cached and pasted back, so it only ever changes pixels under the edit's
mask. The processors (id and version) are part of the chunk cache key and of the export's
metadata. The contract for plugin authors is in docs/plugins.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.plugin_manifest import FRAME_PROCESSOR, Contribution
from ..core.plugins import PluginHost, plugin_host


@dataclass(frozen=True)
class FrameStage:
    """One enabled processor of an edit, its code already imported."""

    contribution: Contribution
    host: PluginHost

    @property
    def id(self) -> str:
        return self.contribution.id

    def record(self) -> dict:
        """What the cache key and the export's metadata record of it."""
        c = self.contribution
        plugin = self.host.plugin(c.plugin)
        return {"id": c.id, "version": c.version, "plugin": c.plugin,
                "plugin_version": plugin.version if plugin else ""}

    def __call__(self, crops: np.ndarray, marks: np.ndarray) -> np.ndarray:
        out = self.host.call(self.contribution, crops, marks)
        if not isinstance(out, np.ndarray) or out.shape != crops.shape or \
                out.dtype != np.uint8:
            got = (f"{out.dtype} {list(out.shape)}" if isinstance(out, np.ndarray)
                   else type(out).__name__)
            raise self.host.fail(self.contribution, f"frame processor '{self.id}' returned "
                                 f"{got}, not uint8 {list(crops.shape)} crops")
        return out


def resolve_processors(ids: tuple[str, ...],
                       host: PluginHost | None = None) -> tuple[FrameStage, ...]:
    """The stages for ``ids``, their code imported now so that a broken plugin fails the job
    before any long work; PluginError names what is missing or disabled."""
    host = host or plugin_host()
    stages = []
    for cid in ids:
        contribution = host.find(FRAME_PROCESSOR, cid)
        host.load(contribution)
        stages.append(FrameStage(contribution, host))
    return tuple(stages)


def apply_processors(stages: tuple[FrameStage, ...], crops: np.ndarray, marks: np.ndarray,
                     present: np.ndarray | None = None) -> np.ndarray:
    """``crops`` after every stage in order; rows where ``present`` is False (no face, nothing
    generated) are left as they are."""
    if not stages:
        return crops
    rows = np.arange(len(crops)) if present is None else np.flatnonzero(present)
    if len(rows) == 0:
        return crops
    out = crops.copy()
    batch, batch_marks = np.ascontiguousarray(crops[rows]), np.ascontiguousarray(marks[rows])
    for stage in stages:
        batch = stage(batch, batch_marks)
    out[rows] = batch
    return out


def available_processors(host: PluginHost | None = None) -> list[Contribution]:
    """Every enabled plugin's frame processors (for menus and ``plugins list``)."""
    return (host or plugin_host()).contributions(FRAME_PROCESSOR)
