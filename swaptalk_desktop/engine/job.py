"""What a render is asked to do: a clip, a frame range, a new face and/or new dialogue."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

TargetMode = Literal["largest", "index", "reference"]
SwapMethod = Literal["warp", "latent"]
SWAP_METHODS = ("warp", "latent")
"""warp: the photo's face drawn onto the target's face mesh (faces/warp_swap.py, no model);
latent: the model set's swap stage in the VQ latent space (the SwapTalk recipe)."""


@dataclass(frozen=True)
class EditOptions:
    """Choices that change the pixels or the sound of the edited range."""

    swap: bool | None = None
    """Replace the identity; None = on exactly when an identity photo is given."""
    sync: bool | None = None
    """Re-sync the lips; None = on exactly when dialogue audio is given."""
    feather: float = 12.0
    """Softness of the mask edge, in pixels of the 256-pixel face crop."""
    strength: float = 1.0
    """0..1 opacity of the generated face over the original."""
    color_match: bool = True
    target: TargetMode = "largest"
    target_index: int = 0
    target_photo: Path | None = None
    """Photo of the on-screen person to edit when several faces are visible."""
    crossfade_s: float = 0.02
    swap_method: SwapMethod = "warp"
    """How a swap is made (SWAP_METHODS). The latent swap of the shipped sets moves no
    identity on new people (models/swaptalk-small-v2/MODEL_CARD.md), so the mesh warp is the
    default."""
    processors: tuple[str, ...] = ()
    """Plugins' frame processors (ids, applied in this order to the generated face before it
    is pasted back; engine/frame_processors.py). Empty: none, the default."""

    def __post_init__(self) -> None:
        if self.swap_method not in SWAP_METHODS:
            raise ValueError(f"swap method must be one of {', '.join(SWAP_METHODS)}, "
                             f"got {self.swap_method!r}")
        # a list from a job description or a project file; kept hashable (jobs are dict keys)
        processors = tuple(self.processors or ())
        if not all(isinstance(p, str) and p for p in processors):
            raise ValueError(f"frame processors must be ids, got {self.processors!r}")
        object.__setattr__(self, "processors", processors)


@dataclass(frozen=True)
class RunOptions:
    """Choices about how the work runs, which never change what the output looks like."""

    provider: str = "auto"
    model_set: str | None = None
    batch_size: int = 8
    chunk_frames: int = 48


@dataclass(frozen=True)
class RangeJob:
    video: Path
    start: int
    stop: int
    """Exclusive: the range is frames [start, stop)."""
    face: Path | None = None
    audio: Path | None = None
    audio_offset: float = 0.0
    """Seconds from the range's first frame to the start of the dialogue file (may be < 0)."""
    edit: EditOptions = field(default_factory=EditOptions)
    run: RunOptions = field(default_factory=RunOptions)

    @property
    def do_swap(self) -> bool:
        return self.face is not None if self.edit.swap is None else self.edit.swap

    @property
    def do_sync(self) -> bool:
        return self.audio is not None if self.edit.sync is None else self.edit.sync

    @property
    def changes_picture(self) -> bool:
        """False for an edit that only replaces the dialogue's sound."""
        return self.do_swap or self.do_sync

    @property
    def mask_region(self) -> str:
        # sync only: everything above the upper lip stays the source's pixels
        return "face" if self.do_swap else "mouth"

    def with_range(self, start: int, stop: int) -> RangeJob:
        return replace(self, start=start, stop=stop)

    def describe(self) -> dict:
        """JSON-ready description (paths as strings) for metadata and job folders."""
        def clean(value):
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            return value
        return clean(asdict(self))

    @classmethod
    def from_description(cls, d: dict) -> RangeJob:
        """The job :meth:`describe` described (keys this version does not know are ignored)."""
        def pick(kind, values: dict) -> dict:
            names = {f.name for f in fields(kind)}
            return {k: v for k, v in values.items() if k in names}

        def path(value) -> Path | None:
            return None if value is None else Path(value)

        edit = pick(EditOptions, d.get("edit") or {})
        edit["target_photo"] = path(edit.get("target_photo"))
        top = pick(cls, d)
        top.update(video=Path(d["video"]), face=path(d.get("face")), audio=path(d.get("audio")),
                   edit=EditOptions(**edit), run=RunOptions(**pick(RunOptions, d.get("run") or {})))
        return cls(**top)
