"""Fake plugin distributions for the plugin tests (plain functions, not fixtures).

``install_plugin`` writes a package and its ``.dist-info`` (METADATA, entry_points.txt, RECORD)
into a folder, as pip would into site-packages; put that folder on ``sys.path`` (or PYTHONPATH
for a child process) and ``importlib.metadata`` finds its entry point.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from swaptalk_desktop.core.plugins import ENTRY_POINT_GROUP

MANIFEST = "swaptalk_plugin.toml"


def install_plugin(site: Path, dist: str, package: str, manifest: str | None,
                   files: dict[str, str] | None = None, *, entry_value: str | None = None,
                   in_record: bool = True) -> Path:
    """A distribution ``dist`` with package ``package`` (its ``files``: name -> source) and
    ``manifest`` (TOML text, or None for none) under ``site``; returns the package folder."""
    folder = site / package
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"__init__.py": "", **(files or {})}
    if manifest is not None:
        contents[MANIFEST] = manifest
    for name, text in contents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    value = entry_value or f"{package}:{MANIFEST}"
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{dist} = {value}\n")
    record = [f"{package}/{name},," for name in contents] if in_record else []
    (info / "RECORD").write_text("\n".join(record + [f"{info.name}/RECORD,,"]) + "\n")
    importlib.invalidate_caches()
    return folder


def processor_manifest(name: str, pid: str, python_name: str, version: str = "1.0") -> str:
    return (f'schema = 1\nname = "{name}"\nversion = "{version}"\n\n'
            f'[[contributions.frame_processors]]\nid = "{pid}"\ntitle = "{pid} title"\n'
            f'python_name = "{python_name}"\n')


BROKEN_ON_IMPORT = ("raise RuntimeError('this plugin is broken on purpose')\n")


def install_broken_plugin(site: Path) -> Path:
    """A plugin whose manifest is fine but whose package raises when imported."""
    return install_plugin(site, "swaptalk-broken-test", "swaptalk_broken_test",
                          processor_manifest("swaptalk-broken-test", "broken.boom",
                                             "swaptalk_broken_test.proc:run"),
                          {"__init__.py": BROKEN_ON_IMPORT,
                           "proc.py": "def run(crops, marks):\n    return crops\n"})
