"""``swaptalk eval``: held-out numbers of a model set (reconstruction, lip sync, face swap)."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import InputError


def add_eval_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure a model set on held-out material of a prepared "
                       "dataset (prints a table, saves JSON)")
    p.add_argument("--data", type=Path, required=True, help="dataset from `swaptalk train "
                   "prepare` (its held-out identities and seconds are used)")
    p.add_argument("--model-set", default=None)
    p.add_argument("--models-dir", type=Path, action="append", default=[])
    p.add_argument("--per-clip", type=int, default=40, help="frames measured per clip")
    p.add_argument("--sync-clips", default=None,
                   help="comma-separated clip ids for the lip-sync measure (default: all "
                   "clips with held-out frames and sound)")
    p.add_argument("--sync-frames", default=None, metavar="A:B",
                   help="measure lip sync on stored frames A..B-1 of those clips instead of "
                   "their held-out frames")
    p.add_argument("--swap", action="append", default=[], metavar="CLIP,PHOTO,START,STOP",
                   help="also render CLIP frames START..STOP-1 with PHOTO's identity and "
                   "measure identity cosines (repeatable)")
    p.add_argument("--cascade", action="store_true",
                   help="also compare the unified latent path with the two RGB cascades "
                   "(Swap->Sync, Sync->Swap) on held-out identities; writes JSON-STEM-cascade.md")
    p.add_argument("--cascade-photo", type=Path, default=None, metavar="PATH",
                   help="identity photo for --cascade (default: a held-out still or clip of the "
                   "dataset)")
    p.add_argument("--cascade-clips", default=None,
                   help="comma-separated held-out clip ids for --cascade (default: all)")
    p.add_argument("--listen-clips-per-identity", type=int, default=4,
                   help="held-out clips per identity for the listening test (sync only, real "
                   "audio vs silence vs a frozen face)")
    p.add_argument("--skip", action="append", default=[],
                   choices=["reconstruction", "sync", "listen"])
    p.add_argument("--json", type=Path, default=Path("eval.json"))
    p.set_defaults(run=run_eval)


def run_eval(args, display) -> int:
    from ..engine import EngineContext
    from ..eval import model_eval
    from ..inference import ModelRegistry
    ctx = EngineContext(ModelRegistry(extra_dirs=args.models_dir))
    chosen = ctx.registry.get_set(args.model_set)
    runners = ctx.runners(chosen.id, "auto", 8)
    result: dict = {"model_set": chosen.id, "data": str(args.data)}
    if "reconstruction" not in args.skip:
        display.message("reconstruction of held-out identities...")
        result["reconstruction"] = model_eval.reconstruction(runners, args.data,
                                                             per_clip=args.per_clip)
    if "sync" not in args.skip:
        display.message("self-driven lip sync on held-out frames...")
        frames = None
        if args.sync_frames:
            a, b = (int(x) for x in args.sync_frames.split(":"))
            frames = (a, b)
        clips = args.sync_clips.split(",") if args.sync_clips else None
        result["sync"] = model_eval.sync_self_driven(runners, ctx.landmarker, args.data,
                                                     clip_ids=clips, frame_range=frames,
                                                     per_clip=args.per_clip)
    if "listen" not in args.skip:
        from ..eval import lipsync_eval
        display.message("does the lip sync listen? held-out identities, audio vs silence vs "
                        "frozen face...")
        if runners.has_stage("lips"):  # the sync-only path the editor runs with this set
            result["listen"] = lipsync_eval.sync_held_out_library(
                runners, ctx.landmarker, args.data, per_clip=args.per_clip,
                clips_per_identity=args.listen_clips_per_identity)
        else:
            result["listen"] = lipsync_eval.sync_held_out(
                runners, ctx.landmarker, args.data, per_clip=args.per_clip,
                clip_ids=args.sync_clips.split(",") if args.sync_clips else None,
                clips_per_identity=args.listen_clips_per_identity)
        listen_md = args.json.with_name(f"{args.json.stem}-listen.md")
        listen_md.write_text(lipsync_eval.table(result["listen"]) + "\n")
    swaps = []
    embedder = None
    for spec in args.swap:
        try:
            clip, photo, start, stop = spec.split(",")
        except ValueError as err:
            raise InputError(f"--swap {spec!r}: expected CLIP,PHOTO,START,STOP") from err
        display.message(f"face swap: {Path(clip).name} with {Path(photo).name}...")
        if embedder is None:  # one for every swap: MobileFaceNet when found, else dlib
            from ..faces import identity_net
            embedder = identity_net.best_embedder()
        swaps.append(model_eval.face_swap(ctx, chosen.id, Path(clip), Path(photo), int(start),
                                          int(stop), embedder=embedder))
    if swaps:
        result["swap"] = swaps
    markdown = None
    if args.cascade:
        from ..eval.cascade import markdown_table, run_cascade
        display.message("unified path vs RGB cascades on held-out identities...")
        result["cascade"] = run_cascade(
            runners, ctx.landmarker, args.data, photo=args.cascade_photo,
            clip_ids=args.cascade_clips.split(",") if args.cascade_clips else None,
            per_clip=args.per_clip, say=display.message)
        markdown = args.json.with_name(f"{args.json.stem}-cascade.md")
        markdown.write_text(markdown_table(result["cascade"], title=f"{chosen.id}: unified "
                                           "latent path vs RGB cascades"))
    args.json.write_text(json.dumps(result, indent=2))
    print(table(result))
    if markdown is not None:
        print(markdown.read_text())
        display.message(f"saved {markdown}")
    display.message(f"saved {args.json}")
    return 0


def table(result: dict) -> str:
    lines = [f"model set {result['model_set']}"]
    rec = result.get("reconstruction")
    if rec:
        lines.append(f"reconstruction ({rec['split']}, {rec['frames']} crops): PSNR "
                     f"{rec['psnr']} dB, SSIM {rec['ssim']}")
    sync = result.get("sync")
    if sync:
        lines.append(f"lip sync ({sync['frames']} frames, {sync['frames_with_landmarks']} with "
                     f"landmarks): LMD {sync['lmd']} vs no-audio baseline "
                     f"{sync['lmd_no_audio_baseline']} (VQGAN ceiling "
                     f"{sync['lmd_vqgan_reconstruction']}); SSIM {sync['ssim']} vs baseline "
                     f"{sync['ssim_no_audio_baseline']}")
    listen = result.get("listen")
    if listen and listen["clips"]:
        lines.append(f"listening test ({listen['clips']} held-out clips of "
                     f"{listen['identities']} identities, {listen['frames_with_landmarks']} "
                     f"frames): LMD audio {listen['lmd_audio']} vs silence "
                     f"{listen['lmd_silence']} vs frozen face {listen['lmd_frozen_first']} "
                     f"(reference {listen['lmd_frozen_reference']}); face SSIM "
                     f"{listen['ssim']}; {listen['clips_passing']}/{listen['clips']} clips at "
                     f"<= {listen['pass_ratio']} of every baseline")
    for s in result.get("swap", []):
        if s.get("frames"):
            lines.append(f"swap {s['clip']} <- {s['photo']} ({s['frames']} frames, "
                         f"{s['embedder']['embedder']}): cos to photo "
                         f"{s['cos_to_photo']} (original face: {s['original_cos_to_photo']}), "
                         f"cos to original {s['cos_to_original_face']}, consistency "
                         f"{s['consistency']}")
    return "\n".join(lines)
