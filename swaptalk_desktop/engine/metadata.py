"""What an export records about itself, so synthetic footage stays identifiable."""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..core.timebase import frame_to_timecode
from .prepare import PreparedJob
from .workdir import file_sha256, now_iso


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".swaptalk.json")


def edit_metadata(p: PreparedJob, output: Path) -> dict:
    job, info = p.job, p.info
    kinds = [k for k, on in (("face swap", job.do_swap), ("lip sync", job.do_sync)) if on]
    fps = info.nominal_fps
    edit = {
        "frames": [job.start, job.stop],
        "timecode": [frame_to_timecode(job.start, fps), frame_to_timecode(job.stop, fps)],
        "seconds": [round(p.t_start, 6), round(p.t_stop, 6)],
        "swap": job.do_swap,
        "sync": job.do_sync,
        "identity_photo": None if job.face is None else {
            "file": Path(job.face).name, "sha256": p.hashes.get("face")},
        "dialogue": None if job.audio is None else {
            "file": Path(job.audio).name, "sha256": p.hashes.get("audio"),
            "offset_s": job.audio_offset},
        "audio_replaced": job.audio is not None,
        "options": {"feather": job.edit.feather, "strength": job.edit.strength,
                    "color_match": job.edit.color_match, "target": job.edit.target},
    }
    summary = (f"Synthetic media: frames {job.start}-{job.stop - 1} of {info.path.name} altered "
               f"by SwapTalk Desktop {__version__} ({', '.join(kinds)}).")
    return {
        "software": f"SwapTalk Desktop {__version__}",
        "synthetic": True,
        "summary": summary,
        "created": now_iso(),
        "output": output.name,
        "source": {"file": info.path.name, "sha256": file_sha256(Path(info.path)),
                   "frames": info.frame_count},
        "edits": [edit],
        "models": p.hashes["models"],
        "provider": p.hashes["provider"],
    }
