"""``swaptalk probe``: what a media file holds, as the engine sees it."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.timebase import frame_to_timecode


def add_probe_parser(sub) -> None:
    p = sub.add_parser("probe", help="show streams, frame rate, frame count and rotation of a clip "
                       "or sound file (a still image or a non-media file is an error)")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run_probe)


def probe_dict(info) -> dict:
    out = {"file": str(info.path), "format": info.format_name,
           "duration_s": round(info.duration_s, 3), "video": None, "audio": None}
    v = info.video
    if v is not None:
        out["video"] = {
            "codec": v.codec, "width": v.width, "height": v.height, "rotation": v.rotation,
            "fps": str(v.fps), "fps_float": round(float(v.fps), 4),
            "nominal_fps": str(v.nominal_fps), "variable_frame_rate": v.is_vfr,
            "frame_count": v.frame_count, "duration_s": round(v.duration_s, 3),
            "pix_fmt": v.pix_fmt, "truncated": v.truncated,
            "timecode_end": frame_to_timecode(v.frame_count, v.nominal_fps)}
    a = info.audio
    if a is not None:
        out["audio"] = {"codec": a.codec, "sample_rate": a.sample_rate, "channels": a.channels,
                        "duration_s": round(a.duration_s, 3)}
    return out


def run_probe(args, display) -> int:
    from ..media import probe
    from ..media.probe import image_not_video
    info = probe(args.file)  # a file that is not media at all raises render's error
    if info.is_image:  # a still is not something the editor can use: say so as render does
        raise image_not_video(args.file)
    data = probe_dict(info)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    lines = [f"{data['file']}  ({data['format']}, {data['duration_s']:.3f} s)"]
    v = data["video"]
    if v:
        vfr = ", variable frame rate" if v["variable_frame_rate"] else ""
        rot = f", rotated {v['rotation']}°" if v["rotation"] else ""
        lines.append(f"  video: {v['codec']} {v['width']}x{v['height']}{rot}, {v['fps_float']} fps"
                     f"{vfr}, {v['frame_count']} frames ({v['timecode_end']}), {v['pix_fmt']}")
        if v["truncated"]:
            lines.append("  warning: the file looks truncated; only the frames above are readable")
    else:
        lines.append("  video: none")
    a = data["audio"]
    lines.append(f"  audio: {a['codec']} {a['sample_rate']} Hz, {a['channels']} ch, "
                 f"{a['duration_s']:.3f} s" if a else "  audio: none")
    print("\n".join(lines))
    return 0
