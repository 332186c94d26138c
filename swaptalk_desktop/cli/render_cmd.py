"""``swaptalk render``: one range of one clip, headless, resumable."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError
from ..core.timebase import frame_to_timecode, parse_position
from .interrupt import ctrl_c_cancels

POSITION_HELP = "frame (120), timecode (00:00:04:20) or seconds (4.8s)"


def add_render_parser(sub) -> None:
    p = sub.add_parser("render", help="re-render a range of a clip with a new face and/or dialogue",
                       description="Re-render frames [START, END) of a clip: swap the face to "
                       "the identity in --face and/or re-sync the lips to --audio. Frames outside "
                       "the range are carried through; the source is never modified. An "
                       "interrupted render resumes from its finished chunks when rerun.")
    p.add_argument("--video", required=True, type=Path, help="source clip")
    p.add_argument("--start", required=True, help=f"first frame of the range: {POSITION_HELP}")
    p.add_argument("--end", required=True,
                   help=f"end of the range, exclusive (first frame not edited): {POSITION_HELP}")
    p.add_argument("--face", type=Path, help="photo of the new identity (one still)")
    p.add_argument("--audio", type=Path, help="new dialogue (wav/flac/mp3/m4a/...)")
    p.add_argument("--audio-offset", type=float, default=0.0, metavar="S",
                   help="seconds from the range's start to the dialogue's start (negative skips "
                   "the beginning of the file); default 0")
    p.add_argument("-o", "--output", required=True, type=Path, help="output .mp4")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    g = p.add_argument_group("edit")
    g.add_argument("--target", default="largest", metavar="largest|N|PHOTO",
                   help="which on-screen face to edit when several are visible: the largest, "
                   "the N-th from the left (0-based), or the one matching PHOTO")
    g.add_argument("--no-swap", dest="swap", action="store_const", const=False, default=None,
                   help="keep the original identity even if --face is given")
    g.add_argument("--sync", dest="sync", action="store_const", const=True, default=None,
                   help="re-sync the lips even without --audio (to the clip's own audio)")
    g.add_argument("--no-sync", dest="sync", action="store_const", const=False,
                   help="keep the original lip motion even if --audio is given")
    g.add_argument("--swap-method", choices=["warp", "latent"], default="warp",
                   help="warp (default): the photo's own face drawn on the actor's face mesh; "
                   "latent: the model set's swap stage (the SwapTalk recipe; the shipped sets' "
                   "latent swap barely moves the identity)")
    g.add_argument("--feather", type=float, default=12.0, help="mask edge softness (px of the "
                   "256 px face crop, default 12)")
    g.add_argument("--strength", type=float, default=1.0, help="opacity of the new face, 0..1")
    g.add_argument("--no-color-match", dest="color_match", action="store_false",
                   help="do not match the generated face's colour to the original")
    g.add_argument("--processor", dest="processors", action="append", default=[],
                   metavar="ID", help="run a plugin's frame processor on the new face before "
                   "it is pasted back (repeatable, applied in the order given); "
                   "'swaptalk plugins list' shows the installed ones")
    e = p.add_argument_group("encoding and models")
    e.add_argument("--crf", type=int, default=18, help="H.264 quality, 0 = lossless (default 18)")
    e.add_argument("--preset", default="medium", help="x264 preset (default medium)")
    e.add_argument("--encoder", default="libx264", help="video encoder: libx264, h264_nvenc, ...")
    e.add_argument("--full-encode", action="store_true",
                   help="encode every frame of the clip as H.264; by default only the GOPs "
                   "with edited frames are re-encoded and the rest of the source's H.264/HEVC "
                   "stream is copied (smart render; other sources are always fully encoded)")
    e.add_argument("--provider", default="auto", metavar="auto|cuda|cpu|ID",
                   help="inference backend: auto (default: CUDA when it works, else CPU), "
                   "cuda, cpu, or another installed by a plugin")
    e.add_argument("--model-set", default=None, help="model set id (default: the default set)")
    e.add_argument("--models-dir", type=Path, action="append", default=[],
                   help="extra folder with a models manifest.json (repeatable)")
    e.add_argument("--batch-size", type=int, default=8)
    e.add_argument("--chunk-frames", type=int, default=48,
                   help="frames per resumable chunk (default 48)")
    o = p.add_argument_group("output")
    o.add_argument("--json-progress", action="store_true",
                   help="print JSON lines (progress/warning/done/error) on stdout")
    o.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(run=run_render)


def _target(text: str):
    if text == "largest":
        return "largest", 0, None
    if text.isdigit():
        return "index", int(text), None
    return "reference", 0, Path(text)


def build_job(args):
    from ..engine import EditOptions, RangeJob, RunOptions
    from ..media import probe_video
    info = probe_video(args.video)
    start = parse_position(args.start, info.nominal_fps, info.frame_times)
    stop = parse_position(args.end, info.nominal_fps, info.frame_times)
    mode, index, photo = _target(args.target)
    if not 0.0 <= args.strength <= 1.0:
        raise InputError(f"--strength {args.strength} must be between 0 and 1")
    if args.batch_size < 1 or args.chunk_frames < 1:
        raise InputError("--batch-size and --chunk-frames must be at least 1")
    edit = EditOptions(swap=args.swap, sync=args.sync, feather=args.feather,
                       strength=args.strength, color_match=args.color_match, target=mode,
                       target_index=index, target_photo=photo,
                       swap_method=args.swap_method, processors=tuple(args.processors))
    run = RunOptions(provider=args.provider, model_set=args.model_set,
                     batch_size=args.batch_size, chunk_frames=args.chunk_frames)
    job = RangeJob(video=args.video, start=start, stop=stop, face=args.face, audio=args.audio,
                   audio_offset=args.audio_offset, edit=edit, run=run)
    return job, info


def run_render(args, display) -> int:
    from ..engine import EngineContext, render_range
    from ..engine.prepare import check_output
    from ..inference import ModelRegistry
    from ..media import EncodeSettings
    # The output first (cheap, and the first thing a user fixes), before probing the clip;
    # render_range checks it again under the output's lock.
    check_output(args.video, args.output, args.overwrite)
    job, info = build_job(args)
    from ..core.plugins import plugin_host
    for problem in plugin_host().problems():  # disabled, so this render does not use them
        display.warning(problem)
    ctx = EngineContext(ModelRegistry(extra_dirs=args.models_dir))
    with ctrl_c_cancels(display) as cancel:
        result = render_range(job, args.output, ctx=ctx, overwrite=args.overwrite,
                              encode=EncodeSettings(video_codec=args.encoder, crf=args.crf,
                                                    preset=args.preset),
                              progress=display.progress, cancel=cancel, info=info,
                              full_encode=args.full_encode)
    fps = info.nominal_fps
    span = f"{frame_to_timecode(job.start, fps)}-{frame_to_timecode(job.stop, fps)}"
    stages = ", ".join(job.edit.processors)
    text = (f"wrote {result.output} ({result.frames_total} frames; edited frames {job.start}-"
            f"{job.stop - 1}, {span}; provider {result.provider}; "
            f"{result.chunks_reused} chunks reused, {result.chunks_rendered} rendered; "
            f"{result.seconds:.1f} s; {_write_text(result.write)}"
            f"{'; face processors ' + stages if stages else ''})")
    payload = {"output": str(result.output), "sidecar": str(result.sidecar),
               "frames": result.frames_total, "edited": result.frames_edited,
               "without_face": result.frames_without_face, "provider": result.provider,
               "chunks_reused": result.chunks_reused, "chunks_rendered": result.chunks_rendered,
               "seconds": result.seconds, "write": result.write,
               "processors": list(job.edit.processors)}
    display.done(payload, text)
    return 0


def _write_text(write: dict) -> str:
    if write.get("mode") == "smart":
        return (f"smart render: {write['frames_reencoded']} frames re-encoded, "
                f"{write['frames_copied']} copied")
    if write.get("reason"):
        return f"full encode, since {write['reason']}"
    return "full encode"
