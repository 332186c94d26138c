"""``swaptalk models list|verify``: installed model sets and their integrity."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import ModelError


def add_models_parser(sub) -> None:
    p = sub.add_parser("models", help="list or verify installed model sets")
    p.add_argument("action", choices=["list", "verify"])
    p.add_argument("--models-dir", type=Path, action="append", default=[],
                   help="extra folder with a models manifest.json (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_models)


def run_models(args, display) -> int:
    from ..inference import ModelRegistry, user_model_dir
    registry = ModelRegistry(extra_dirs=args.models_dir)
    for problem in registry.problems:
        display.warning(str(problem))
    if args.action == "list":
        sets = registry.sets()
        default = registry.default_set_id() if sets else None
        if args.json:
            print(json.dumps([{"id": s.id, "default": s.id == default,
                               "description": s.description,
                               "stages": {k: [m.id for m in v] for k, v in s.stages.items()},
                               "manifest": str(s.manifest_path)} for s in sets], indent=2))
            return 0
        if not sets:
            print(f"no model sets installed (searched the built-in models/ folder and "
                  f"{user_model_dir()})")
            return 0
        for s in sets:
            mark = "*" if s.id == default else " "
            print(f"{mark} {s.id}: {s.description}")
            for stage, entries in s.stages.items():
                print(f"    {stage:<7} " + ", ".join(f"{m.id} ({m.precision})" for m in entries))
        return 0
    results = registry.verify_all()
    bad = [(e, msg) for e, ok, msg in results if not ok]
    if args.json:
        print(json.dumps([{"id": e.id, "file": str(e.path), "ok": ok, "message": msg}
                          for e, ok, msg in results], indent=2))
    else:
        for e, ok, msg in results:
            print(f"{'ok ' if ok else 'BAD'} {e.id}  {e.path.name}" + ("" if ok else f"  {msg}"))
        print(f"{len(results) - len(bad)} of {len(results)} model files verified")
    if bad:
        raise ModelError(bad[0][1] if len(bad) == 1 else
                         f"{len(bad)} model files failed verification; first: {bad[0][1]}")
    return 0
