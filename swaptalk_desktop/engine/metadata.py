"""What an export records about itself, so synthetic footage stays identifiable."""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..core.hashing import file_sha256
from ..core.timebase import frame_to_timecode
from .prepare import PreparedJob
from .workdir import now_iso


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".swaptalk.json")


def edit_entry(p: PreparedJob, audio_replaced: bool) -> dict:
    """One edit of an export: its range, what changed, and the files it was made from."""
    job, info = p.job, p.info
    fps = info.nominal_fps
    return {
        "frames": [job.start, job.stop],
        "timecode": [frame_to_timecode(job.start, fps), frame_to_timecode(job.stop, fps)],
        "seconds": [round(p.t_start, 6), round(p.t_stop, 6)],
        "swap": job.do_swap,
        "swap_method": job.edit.swap_method if job.do_swap else None,
        "sync": job.do_sync,
        "identity_photo": None if job.face is None else {
            "file": Path(job.face).name, "sha256": p.hashes.get("face")},
        "dialogue": None if job.audio is None else {
            "file": Path(job.audio).name, "sha256": p.hashes.get("audio"),
            "offset_s": job.audio_offset},
        "audio_replaced": audio_replaced,
        "processors": list(p.hashes.get("processors", [])),
        "options": {"feather": job.edit.feather, "strength": job.edit.strength,
                    "color_match": job.edit.color_match, "target": job.edit.target},
    }


def _ranges_text(prepared: list[PreparedJob]) -> str:
    parts = [f"{p.job.start}-{p.job.stop - 1}" for p in prepared]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def export_metadata(prepared: list[PreparedJob], output: Path,
                    audio_mode: str = "replace") -> dict:
    """The record embedded in an export and written beside it, listing every edit."""
    info = prepared[0].info
    kinds = [k for k, on in (("face swap", any(p.job.do_swap for p in prepared)),
                             ("lip sync", any(p.job.do_sync for p in prepared)),
                             ("dialogue replaced", audio_mode == "replace" and any(
                                 p.dialogue is not None for p in prepared))) if on]
    summary = (f"Synthetic media: frames {_ranges_text(prepared)} of {info.path.name} altered "
               f"by SwapTalk Desktop {__version__} ({', '.join(kinds)}).")
    models: list[dict] = []
    for p in prepared:
        models += [m for m in p.hashes["models"] if m not in models]
    processors: list[dict] = []
    for p in prepared:
        processors += [s for s in p.hashes.get("processors", []) if s not in processors]
    providers = list(dict.fromkeys(p.hashes["provider"] for p in prepared
                                   if p.hashes["provider"] != "none")) or ["none"]
    return {
        "software": f"SwapTalk Desktop {__version__}",
        "synthetic": True,
        "summary": summary,
        "created": now_iso(),
        "output": output.name,
        "source": {"file": info.path.name, "sha256": file_sha256(Path(info.path)),
                   "frames": info.frame_count},
        "edits": [edit_entry(p, audio_mode == "replace" and p.job.audio is not None)
                  for p in prepared],
        "audio_mode": audio_mode,
        "models": models,
        "processors": processors,
        "provider": ", ".join(providers),
    }


def edit_metadata(p: PreparedJob, output: Path) -> dict:
    """The record of a single-edit export."""
    return export_metadata([p], output)
