"""``swaptalk models list|verify|install``: installed model sets, their integrity, and
installing more into the user model folder (sha256-checked, see inference/install.py)."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import ModelError


def add_models_parser(sub) -> None:
    p = sub.add_parser("models", help="list, verify or install model sets",
                       description="list: the installed model sets; verify: re-hash every model "
                       "file; install SOURCE: copy the model sets of SOURCE (a set folder with a "
                       "manifest.json, a folder of them, or a .zip) into the user model folder, "
                       "each file checked against its manifest's sha256 first")
    p.add_argument("action", choices=["list", "verify", "install"])
    p.add_argument("source", nargs="?", type=Path,
                   help="install: a model set folder, a folder of them, or a .zip")
    p.add_argument("--replace", action="store_true",
                   help="install: replace an installed set folder of the same name")
    p.add_argument("--models-dir", type=Path, action="append", default=[],
                   help="extra folder with a models manifest.json (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_models)


def run_models(args, display) -> int:
    from ..inference import ModelRegistry, user_model_dir
    if args.action == "install":
        return run_install(args)
    if args.source is not None:
        raise ModelError(f"'models {args.action}' takes no source; did you mean "
                         f"'models install {args.source}'?")
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


def run_install(args) -> int:
    from ..inference.install import install_model_sets
    from ..inference.registry import user_model_dir
    if args.source is None:
        raise ModelError("models install needs a SOURCE: a model set folder with a "
                         "manifest.json, a folder of them, or a .zip")
    installed = install_model_sets(args.source, replace=args.replace)
    if args.json:
        print(json.dumps([{"folder": str(i.folder), "sets": list(i.sets),
                           "models": list(i.models), "replaced": i.replaced}
                          for i in installed], indent=2))
        return 0
    for item in installed:
        what = ", ".join(item.sets) or f"{len(item.models)} models"
        verb = "replaced" if item.replaced else "installed"
        print(f"{verb} {item.folder.name}: {what} ({len(item.models)} model files verified)")
    print(f"model sets are in {user_model_dir()}; `swaptalk models list` shows them")
    return 0
