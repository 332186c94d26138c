"""Export a sequence (several clips, or takes, one after another) to one MP4.

Each clip of the sequence is written on its own to a hidden folder beside the output: a clip
with edits in its trim through :func:`.render.export_clip` (its trimmed span, the edits
processed as in a one-clip export), an untouched clip straight through
:func:`..media.write_clip` (its frames re-encoded from the decoder's own planes, the sound
copied or cut). :func:`..media.concat.join_mp4` then joins the parts without re-encoding the
picture and writes one sound track, and the output appears complete or not at all. The
metadata and the sidecar list every clip with its place in the sequence and its edits.

Clips must share one size and frame rate (checked before any work, naming the clip that
differs); the sequence is not conformed.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..core.atomic import write_text_atomic
from ..core.cancel import NEVER, CancelToken
from ..core.errors import InputError
from ..core.hashing import file_sha256
from ..core.output_lock import output_lock
from ..core.progress import ProgressCallback, StageMeter
from ..media import EncodeSettings, VideoInfo, probe_video, write_clip
from ..media.concat import check_joinable, join_mp4
from .context import EngineContext
from .job import RangeJob
from .metadata import sidecar_path
from .prepare import check_output
from .render import AUDIO_MODES, AudioMode, export_clip
from .workdir import now_iso


@dataclass(frozen=True)
class SequencePart:
    """One clip of the sequence: source frames ``[source_in, source_out)`` of ``video`` and
    the edits of that clip (any of them; those outside the trim are left out)."""

    video: Path
    source_in: int
    source_out: int
    jobs: tuple[RangeJob, ...] = ()

    @property
    def length(self) -> int:
        return self.source_out - self.source_in

    def describe(self) -> dict:
        return {"video": str(self.video), "source_in": self.source_in,
                "source_out": self.source_out, "jobs": [j.describe() for j in self.jobs]}

    @classmethod
    def from_description(cls, d: dict) -> SequencePart:
        return cls(Path(d["video"]), int(d["source_in"]), int(d["source_out"]),
                   tuple(RangeJob.from_description(j) for j in d.get("jobs") or []))


@dataclass(frozen=True)
class SequenceResult:
    output: Path
    sidecar: Path
    frames_total: int
    clips: int
    clips_edited: int
    frames_edited: int
    provider: str
    seconds: float
    parts: list[dict] = field(default_factory=list)


def _cut(parts: list[SequencePart], span: tuple[int, int] | None
         ) -> list[tuple[SequencePart, int]]:
    """The parts inside sequence frames ``span`` (trimmed to it), each with its start."""
    total = sum(p.length for p in parts)
    if span is None:
        span = (0, total)
    a, b = span
    if not 0 <= a < b <= total:
        raise InputError(f"the range {a}-{b - 1} to export is outside the sequence "
                         f"({total} frames)")
    kept, at = [], 0
    for p in parts:
        lo, hi = max(a, at), min(b, at + p.length)
        if lo < hi:
            kept.append((dataclasses.replace(p, source_in=p.source_in + lo - at,
                                             source_out=p.source_in + hi - at), lo - a))
        at += p.length
    return kept


def _labelled(progress: ProgressCallback | None, k: int, n: int) -> ProgressCallback | None:
    if progress is None:
        return None

    def sink(ev):
        text = f"clip {k + 1} of {n}" + (f" · {ev.message}" if ev.message else "")
        progress(dataclasses.replace(ev, message=text))
    return sink


def export_sequence(parts: list[SequencePart], output: Path | str, *,
                    ctx: EngineContext | None = None, encode: EncodeSettings | None = None,
                    overwrite: bool = False, progress: ProgressCallback | None = None,
                    cancel: CancelToken = NEVER, audio_mode: AudioMode = "replace",
                    span: tuple[int, int] | None = None) -> SequenceResult:
    """Write the sequence ``parts`` (in order) to ``output`` as one MP4; ``span=(a, b)``
    writes only sequence frames ``a .. b-1``. Everything a user can get wrong (output, a
    clip's trim, clips of another size or rate) is checked before any long work."""
    t_begin = time.monotonic()
    output = Path(output)
    ctx = ctx or EngineContext()
    if audio_mode not in AUDIO_MODES:
        raise ValueError(f"audio_mode must be one of {', '.join(AUDIO_MODES)}")
    if not parts:
        raise InputError("the sequence is empty; add a clip to it first")
    infos: dict[Path, VideoInfo] = {}
    for p in parts:
        check_output(Path(p.video), output, overwrite)
        if p.video not in infos:
            infos[p.video] = probe_video(p.video)
        n = infos[p.video].frame_count
        if not 0 <= p.source_in < p.source_out <= n:
            raise InputError(f"the sequence clip {p.source_in}-{p.source_out - 1} of "
                             f"{Path(p.video).name} is outside it ({n} frames); trim it again")
    check_joinable([infos[p.video] for p in parts], [Path(p.video).name for p in parts])
    kept = _cut(parts, span)
    with output_lock(output):
        check_output(Path(parts[0].video), output, overwrite)
        folder = Path(tempfile.mkdtemp(prefix=f".{output.stem}.sequence-",
                                       dir=output.resolve().parent))
        try:
            return _export_locked(kept, output, folder, infos, ctx=ctx, encode=encode,
                                  progress=progress, cancel=cancel, audio_mode=audio_mode,
                                  span=span, t_begin=t_begin)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _export_locked(kept: list[tuple[SequencePart, int]], output: Path, folder: Path,
                   infos: dict[Path, VideoInfo], *, ctx: EngineContext,
                   encode: EncodeSettings | None, progress: ProgressCallback | None,
                   cancel: CancelToken, audio_mode: AudioMode, span: tuple[int, int] | None,
                   t_begin: float) -> SequenceResult:
    encode = encode or EncodeSettings()
    files: list[Path] = []
    entries: list[dict] = []
    providers: list[str] = []
    models: list[dict] = []
    frames_edited = 0
    for k, (part, start) in enumerate(kept):
        info = infos[part.video]
        name = Path(part.video).name
        file = folder / f"part_{k:04d}.mp4"
        a, b = part.source_in, part.source_out
        jobs = [j for j in part.jobs if j.start < b and j.stop > a]
        sink = _labelled(progress, k, len(kept))
        entry = {"file": name, "source_frames": [a, b],
                 "sequence_frames": [start, start + part.length], "edits": []}
        if jobs:
            result = export_clip(part.video, jobs, file, ctx=ctx, encode=encode,
                                 progress=sink, cancel=cancel, audio_mode=audio_mode,
                                 info=info, span=(a, b),
                                 # join_mp4 needs every part encoded alike, not copied GOPs
                                 full_encode=True)
            record = json.loads(result.sidecar.read_text(encoding="utf-8"))
            entry.update(source=record["source"], edits=record["edits"])
            frames_edited += result.frames_edited
            providers.append(record["provider"])
            models += [m for m in record.get("models", []) if m not in models]
        else:
            meter = StageMeter("write", b - a, sink)
            write_clip(info, file, audio=None if audio_mode == "mute" else "copy",
                       settings=encode, span=(a, b), progress=meter.callback(),
                       cancel=cancel)
            entry["source"] = {"file": name, "sha256": file_sha256(Path(part.video)),
                               "frames": info.frame_count}
        files.append(file)
        entries.append(entry)
    record = _record(entries, output, audio_mode, models, providers, span)
    meter = StageMeter("write", 1, _labelled(progress, len(kept) - 1, len(kept)))
    joined = join_mp4(files, output, audio=audio_mode != "mute",
                      audio_bitrate=encode.audio_bitrate, cancel=cancel,
                      progress=lambda done, total: meter.update(done, total,
                                                                "joining the clips"),
                      metadata={"comment": record["summary"],
                                "swaptalk_edits": json.dumps(record)})
    sidecar = sidecar_path(output)
    write_text_atomic(sidecar, json.dumps(record, indent=2))
    return SequenceResult(output, sidecar, joined.frames, len(kept),
                          sum(1 for e in entries if e["edits"]), frames_edited,
                          record["provider"], round(time.monotonic() - t_begin, 2), entries)


def _record(entries: list[dict], output: Path, audio_mode: str, models: list[dict],
            providers: list[str], span: tuple[int, int] | None) -> dict:
    edited = [e for e in entries if e["edits"]]
    if edited:
        what = "; ".join(f"{e['file']} frames " + ", ".join(
            f"{x['frames'][0]}-{x['frames'][1] - 1}" for x in e["edits"]) for e in edited)
        summary = (f"Synthetic media: a sequence of {len(entries)} clips by SwapTalk Desktop "
                   f"{__version__}, altered in {what}.")
    else:
        summary = (f"A sequence of {len(entries)} clips written by SwapTalk Desktop "
                   f"{__version__}; no frame was altered.")
    used = list(dict.fromkeys(p for part in providers for p in part.split(", ")
                              if p and p != "none")) or ["none"]
    processors: list[dict] = []  # plugins' frame processors of any edit, as beside the models
    for stage in (s for e in entries for x in e["edits"] for s in x.get("processors", [])):
        if stage not in processors:
            processors.append(stage)
    record = {"software": f"SwapTalk Desktop {__version__}", "synthetic": bool(edited),
              "summary": summary, "created": now_iso(), "output": output.name,
              "frames": sum(e["sequence_frames"][1] - e["sequence_frames"][0]
                            for e in entries),
              "clips": entries, "audio_mode": audio_mode, "models": models,
              "processors": processors, "provider": ", ".join(used)}
    if span is not None:
        record["span"] = {"frames": list(span), "note": "the output starts at this frame of "
                          "the sequence; each clip's sequence_frames count from there"}
    return record
