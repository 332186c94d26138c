"""The layer rules of DESIGN.md, enforced on the source and on a real import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "swaptalk_desktop"
QT = {"PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "superqt", "qtpy"}
TORCH = {"torch", "torchvision", "torchaudio", "lightning", "pytorch_lightning"}
LOWER = ("core", "media", "faces", "inference", "engine", "interchange")


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
        for line, name in imported_modules(path):
            top = name.split(".")[0]
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
            if top in QT and layer != "ui":
                bad.append(f"{where} (Qt is allowed only in ui/)")
            if top in TORCH and layer != "training":
                bad.append(f"{where} (torch is allowed only in training/)")
            if layer in LOWER and name.startswith("swaptalk_desktop.") and \
                    name.split(".")[1] in ("ui", "training", "cli"):
                bad.append(f"{where} (lower layers must not depend on ui/training/cli)")
    return bad


def test_no_layer_violations_in_source():
    assert violations() == []


def test_checker_sees_a_violation(tmp_path, monkeypatch):
    fake = tmp_path / "swaptalk_desktop"
    (fake / "media").mkdir(parents=True)
    source = "def f():\n    import torch\n    from PySide6 import QtCore\n"
    (fake / "media" / "bad.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = violations()
    assert len(found) == 2 and "torch" in found[0] and "PySide6" in found[1]


def test_engine_and_cli_import_without_qt_or_torch():
    code = ("import sys, swaptalk_desktop.engine, swaptalk_desktop.cli, swaptalk_desktop.faces, "
            "swaptalk_desktop.media, swaptalk_desktop.inference, swaptalk_desktop.interchange\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(QT | TORCH)!r})\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
