"""``swaptalk otio export|import``: the timeline to and from OpenTimelineIO (and CMX 3600 EDLs)."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import OutputError


def add_otio_parser(sub) -> None:
    p = sub.add_parser("otio", help="exchange the timeline with other editors (OpenTimelineIO "
                       ".otio; CMX 3600 .edl to import)")
    actions = p.add_subparsers(dest="otio_action", metavar="ACTION", required=True)
    e = actions.add_parser("export", help="write a project's timeline (its clip, edits and "
                           "markers) to an .otio file")
    e.add_argument("project", type=Path, help="a .swaptalk project")
    e.add_argument("-o", "--output", type=Path, required=True, help="the .otio file to write")
    e.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    e.set_defaults(run=run_export)
    i = actions.add_parser("import", help="make a project from an .otio file or a CMX 3600 "
                           ".edl (its first video clip, in/out marks and markers)")
    i.add_argument("file", type=Path, help="an .otio or .edl file")
    i.add_argument("-o", "--output", type=Path, required=True,
                   help="the .swaptalk project to write")
    i.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    i.set_defaults(run=run_import)


def _check_output(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists; pass --overwrite to replace it")


def run_export(args, display) -> int:
    from ..core.project_io import load_project
    from ..interchange import export_otio
    _check_output(args.output, args.overwrite)
    project = load_project(args.project)
    written = export_otio(project, args.output)
    clip = project.clips[project.current_clip or next(iter(project.clips))]
    display.message(f"wrote {written} ({project.clip_name(clip.media_id)}: "
                    f"{len(clip.edits)} edits, {len(clip.markers)} markers)")
    return 0


def run_import(args, display) -> int:
    from ..core.project_io import save_project
    from ..interchange import import_timeline
    if args.output.suffix.lower() != ".swaptalk":
        raise OutputError(f"cannot write {args.output.name}: a project file ends in .swaptalk")
    _check_output(args.output, args.overwrite)
    result = import_timeline(args.file)
    for line in result.warnings:
        display.warning(line)
    save_project(result.project, args.output)
    clip = result.project.clips[result.project.current_clip]
    display.message(f"wrote {args.output} ({result.project.clip_name(clip.media_id)}: "
                    f"{len(clip.edits)} edits, {len(clip.markers)} markers)")
    return 0
