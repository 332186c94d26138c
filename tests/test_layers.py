"""The layer rules of DESIGN.md and docs/architecture.md, enforced on the source and on a real
import.

The order, dependencies pointing down only:

    core  <  media, faces, inference  <  engine  <  app  <  ui, cli

- ``interchange`` (OpenTimelineIO) sits on core and media; app, ui and cli use it.
- ``training`` (torch) stands beside the app on top of the engine: it uses core, media, faces,
  inference and engine (the render path's crops and the adaptation plan, so a model learns from
  the crops it will see); nothing but ``cli`` imports it.
- ``eval`` (metrics, benchmarks) uses everything below the app; only ``cli`` imports it, never
  the app or the editor.
- ``ui`` reaches the engine only through ``app`` (it may still use core, media, inference and
  interchange directly); ``ui`` and ``cli`` do not import each other, except the benchmarks
  that drive a widget (``swaptalk bench timeline`` and ``bench scrub``, cli/bench_cmd.py).
  ``__main__`` picks one of the two.
- Only ``ui`` imports Qt; only ``training`` imports torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "swaptalk_desktop"
QT = {"PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "superqt", "qtpy"}
TORCH = {"torch", "torchvision", "torchaudio", "lightning", "pytorch_lightning"}

_BELOW_ENGINE = {"core", "media", "faces", "inference"}
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "media": {"core"},
    "inference": {"core"},
    "faces": {"core", "media", "inference"},
    "interchange": {"core", "media"},
    "engine": _BELOW_ENGINE,
    "training": _BELOW_ENGINE | {"engine"},
    "eval": _BELOW_ENGINE | {"engine"},
    "app": _BELOW_ENGINE | {"engine", "interchange"},
    "ui": {"core", "media", "inference", "interchange", "app"},
    "cli": _BELOW_ENGINE | {"engine", "interchange", "app", "training", "eval"},
    "__main__": {"cli", "ui"},
    "__init__": set(),
}
"""Which layers each layer may import (besides itself)."""
EXCEPTIONS = {("cli/bench_cmd.py", "ui")}
"""(file, layer) imports allowed against the table above, each for a reason in the docstring."""
WHY = {
    "engine": "ui reaches the engine only through app/",
    "training": "nothing but cli imports training/",
    "eval": "eval/ is imported by cli only, never by the app or the editor",
    "ui": "only __main__ (and the benchmarks that drive a widget) import ui/",
    "cli": "only __main__ imports cli/",
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every absolute module an import statement in ``path`` names, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # resolve "from ..x import y" against the file's package
                base = package[: len(package) - node.level]
                name = ".".join(base + ((node.module,) if node.module else ()))
                if not node.module and len(base) == 1:  # "from .. import x": x is the module
                    found += [(node.lineno, f"{base[0]}.{alias.name}") for alias in node.names]
                    continue
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def layer_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = layer_of(path)
        rel = path.relative_to(PACKAGE).as_posix()
        for line, name in imported_modules(path):
            top = name.split(".")[0]
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
            if top in QT and layer != "ui":
                bad.append(f"{where} (Qt is allowed only in ui/)")
            if top in TORCH and layer != "training":
                bad.append(f"{where} (torch is allowed only in training/)")
            if top != "swaptalk_desktop" or name.count(".") == 0:
                continue
            target = name.split(".")[1]
            if target == layer or (rel, target) in EXCEPTIONS:
                continue
            if target in ALLOWED and target not in ALLOWED.get(layer, set()):
                reason = WHY.get(target, f"{layer}/ sits below {target}/")
                bad.append(f"{where} ({layer}/ may not import {target}/: {reason})")
    return bad


def test_every_layer_is_in_the_table():
    layers = {layer_of(p) for p in PACKAGE.rglob("*.py")}
    assert layers <= set(ALLOWED), f"add {sorted(layers - set(ALLOWED))} to ALLOWED"


def test_no_layer_violations_in_source():
    assert violations() == []


def _fake_package(tmp_path, monkeypatch, files: dict[str, str]) -> list[str]:
    fake = tmp_path / "swaptalk_desktop"
    for rel, source in files.items():
        (fake / rel).parent.mkdir(parents=True, exist_ok=True)
        (fake / rel).write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    return violations()


def test_checker_sees_a_violation(tmp_path, monkeypatch):
    found = _fake_package(tmp_path, monkeypatch, {
        "media/bad.py": "def f():\n    import torch\n    from PySide6 import QtCore\n"})
    assert len(found) == 2 and "torch" in found[0] and "PySide6" in found[1]


def test_checker_sees_each_wrong_direction(tmp_path, monkeypatch):
    found = _fake_package(tmp_path, monkeypatch, {
        "ui/widget.py": "from ..engine.process import render_folder\n"   # past the app layer
                        "from ..app.jobs import JobManager\n",           # fine
        "ui/bench.py": "from ..eval import metrics\n",
        "app/jobs.py": "from ..ui.widgets import ElidedLabel\n"          # up into the widgets
                       "from ..eval import bench_render\n"
                       "from ..training import adapt\n",
        "engine/render.py": "from ..app import jobs\n",
        "core/project.py": "from ..media import probe\n",
        "eval/metrics.py": "from ..app.context import make_context\n",
        "training/adapt.py": "from ..engine.adapt_plan import estimate\n",  # fine
        "cli/render_cmd.py": "from ..ui.main_window import MainWindow\n",
        "cli/bench_cmd.py": "from ..ui.bench_timeline import measure\n",  # the one exception
    })
    expected = [
        ("app/jobs.py", "swaptalk_desktop.ui.widgets", "only __main__"),
        ("app/jobs.py", "swaptalk_desktop.eval", "imported by cli only"),
        ("app/jobs.py", "swaptalk_desktop.training", "nothing but cli"),
        ("cli/render_cmd.py", "swaptalk_desktop.ui.main_window", "only __main__"),
        ("core/project.py", "swaptalk_desktop.media", "core/ sits below media/"),
        ("engine/render.py", "swaptalk_desktop.app", "engine/ sits below app/"),
        ("eval/metrics.py", "swaptalk_desktop.app.context", "eval/ sits below app/"),
        ("ui/bench.py", "swaptalk_desktop.eval", "imported by cli only"),
        ("ui/widget.py", "swaptalk_desktop.engine.process", "only through app/"),
    ]
    assert len(found) == len(expected), "\n".join(found)
    for line, (file, name, reason) in zip(found, expected, strict=True):
        assert file in line and f"imports {name} " in line and reason in line, line


def test_engine_and_cli_import_without_qt_or_torch():
    code = ("import sys, swaptalk_desktop.engine, swaptalk_desktop.cli, swaptalk_desktop.faces, "
            "swaptalk_desktop.media, swaptalk_desktop.inference, swaptalk_desktop.interchange, "
            "swaptalk_desktop.app.jobs, swaptalk_desktop.app.context, "
            "swaptalk_desktop.app.playback_frames, swaptalk_desktop.app.job_host\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(QT | TORCH)!r})\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_app_layer_imports_without_eval_or_training():
    code = ("import sys, swaptalk_desktop.app.jobs, swaptalk_desktop.app.context, "
            "swaptalk_desktop.app.playback_frames, swaptalk_desktop.app.job_host, "
            "swaptalk_desktop.app.adapt, swaptalk_desktop.app.cache, "
            "swaptalk_desktop.app.project_jobs\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[:2] in "
            "(['swaptalk_desktop', 'eval'], ['swaptalk_desktop', 'training']))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
