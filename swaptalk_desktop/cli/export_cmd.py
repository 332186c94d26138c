"""``swaptalk export``: a project's sequence (or one clip with its edits) to an MP4, headless,
as the editor's File ▸ Export does it (for batch exports and render machines)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..core.errors import InputError
from .interrupt import ctrl_c_cancels


def add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="export a project's sequence (or one clip) to an MP4",
                       description="Export a .swaptalk project the way the editor's File ▸ "
                       "Export does: the whole sequence (every clip in order, trimmed, with "
                       "its edits) by default, or one clip with --clip. Edits that are not "
                       "processed yet are processed first; the project is not modified.")
    p.add_argument("project", type=Path, help="the .swaptalk project file")
    p.add_argument("-o", "--output", required=True, type=Path, help="output .mp4")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--clip", metavar="NAME|ID",
                   help="export this clip (its file name, stem or media id) with its edits, "
                   "instead of the sequence")
    p.add_argument("--marked", action="store_true",
                   help="only the marked range: the sequence's in/out marks, or with --clip "
                   "the clip's")
    p.add_argument("--audio", choices=["replace", "keep", "mute"], default="replace",
                   help="replace (default): every edit's new line in the sound; keep: the "
                   "source's sound as it is; mute: no sound")
    e = p.add_argument_group("encoding and models")
    e.add_argument("--crf", type=int, default=18, help="H.264 quality, 0 = lossless (default 18)")
    e.add_argument("--preset", default="medium", help="x264 preset (default medium)")
    e.add_argument("--encoder", default="libx264", help="video encoder: libx264, h264_nvenc, ...")
    e.add_argument("--full-encode", action="store_true",
                   help="with --clip: encode every frame instead of copying the untouched GOPs "
                   "(a sequence is always encoded whole)")
    e.add_argument("--models-dir", type=Path, action="append", default=[],
                   help="extra folder with a models manifest.json (repeatable)")
    o = p.add_argument_group("output")
    o.add_argument("--json-progress", action="store_true",
                   help="print JSON lines (progress/warning/done/error) on stdout")
    o.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(run=run_export)


def find_clip(project, text: str) -> str:
    """The media id of the project's clip named ``text`` (id, file name or stem)."""
    clips = [m for m in project.media.values() if m.kind == "video"]
    for match in (lambda m: m.id == text, lambda m: m.name == text,
                  lambda m: m.path.stem == text):
        found = [m for m in clips if match(m)]
        if len(found) == 1:
            return found[0].id
        if len(found) > 1:
            raise InputError(f"{len(found)} clips of the project are called {text}; give "
                             f"its media id ({', '.join(m.id for m in found)})")
    names = ", ".join(sorted(m.name for m in clips)) or "none"
    raise InputError(f"the project has no clip {text!r} (its clips: {names})")


def run_export(args, display) -> int:
    from ..app.project_jobs import exportable, jobs_for_clip, sequence_parts
    from ..core.project_io import load_project
    from ..engine import EngineContext, export_clip
    from ..engine.prepare import check_output
    from ..engine.sequence_export import export_sequence
    from ..inference import ModelRegistry
    from ..media import EncodeSettings

    project = load_project(args.project)
    _probe_lengths(project)
    encode = EncodeSettings(video_codec=args.encoder, crf=args.crf, preset=args.preset)
    ctx = EngineContext(ModelRegistry(extra_dirs=args.models_dir))
    with ctrl_c_cancels(display) as cancel:
        if args.clip:
            clip_id = find_clip(project, args.clip)
            if clip_id not in project.clips:
                raise InputError(f"{project.media_item(clip_id).name} has no edits in the "
                                 "project; open it in the editor and add one")
            video = project.media_item(clip_id).path
            check_output(video, args.output, args.overwrite)
            jobs = [j for j in jobs_for_clip(project, clip_id) if exportable(j)]
            clip = project.clips[clip_id]
            span = None
            if args.marked:
                if clip.mark_in is None or clip.mark_out is None:
                    raise InputError(f"{video.name} has no in and out marks; set them in "
                                     "the editor or leave out --marked")
                span = (clip.mark_in, clip.mark_out)
            result = export_clip(video, jobs, args.output, ctx=ctx, encode=encode,
                                 overwrite=args.overwrite, progress=display.progress,
                                 cancel=cancel, audio_mode=args.audio, span=span,
                                 full_encode=args.full_encode)
            text = (f"wrote {result.output} ({result.frames_total} frames, "
                    f"{len(jobs)} edit{'s' if len(jobs) != 1 else ''}, "
                    f"{result.seconds:.1f} s)")
            payload = {"output": str(result.output), "sidecar": str(result.sidecar),
                       "frames": result.frames_total, "edited": result.frames_edited,
                       "edits": len(jobs), "seconds": result.seconds, "write": result.write}
        else:
            parts = [replace(p, jobs=tuple(j for j in p.jobs if exportable(j)))
                     for p in sequence_parts(project)]
            span = project.sequence_range() if args.marked else None
            result = export_sequence(parts, args.output, ctx=ctx, encode=encode,
                                     overwrite=args.overwrite, progress=display.progress,
                                     cancel=cancel, audio_mode=args.audio, span=span)
            text = (f"wrote {result.output} ({result.frames_total} frames of "
                    f"{result.clips} clip{'s' if result.clips != 1 else ''}, "
                    f"{result.clips_edited} with edits, {result.seconds:.1f} s)")
            payload = {"output": str(result.output), "sidecar": str(result.sidecar),
                       "frames": result.frames_total, "clips": result.clips,
                       "clips_edited": result.clips_edited, "edited": result.frames_edited,
                       "seconds": result.seconds}
    display.done(payload, text)
    return 0


def _probe_lengths(project) -> None:
    """Clips the editor never probed (a project written by a script) get their length, in
    memory only: the project file is left as it is."""
    from ..media import probe_video
    for item in project.media.values():
        if item.kind == "video" and item.frame_count is None and item.path.is_file():
            item.summary = {**item.summary, "frames": probe_video(item.path).frame_count}
