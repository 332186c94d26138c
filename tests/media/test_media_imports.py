"""media/ must import neither Qt nor torch (the app renders with torch absent)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import swaptalk_desktop.media as media

FORBIDDEN = {"PySide6", "PyQt5", "PyQt6", "qtpy", "shiboken6", "pyqtgraph", "torch",
             "torchvision", "torchaudio"}


def test_no_forbidden_imports_in_source() -> None:
    for path in Path(media.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_importing_media_loads_neither() -> None:
    code = ("import sys, swaptalk_desktop.media; "
            f"print(sorted(m for m in {sorted(FORBIDDEN)!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "[]"
