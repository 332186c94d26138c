"""The File > Open Recent list, shared by every running instance through one small JSON file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import platformdirs

from .atomic import write_text_atomic
from .project import normalize_path

log = logging.getLogger(__name__)

MAX_RECENT = 10


def recent_file() -> Path:
    return Path(platformdirs.user_config_dir("swaptalk-desktop")) / "recent.json"


class RecentProjects:
    """Newest first, at most ``limit``; read from disk on every call so that two windows (or
    two instances) do not overwrite each other's additions with a stale copy."""

    def __init__(self, path: Path | None = None, limit: int = MAX_RECENT):
        self.path = path or recent_file()
        self.limit = limit

    def paths(self) -> list[Path]:
        """Including files that no longer exist (the menu greys those out)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            log.warning("ignoring unreadable recent-projects list %s: %s", self.path, err)
            return []
        entries = data.get("recent") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return []
        return [Path(p) for p in entries if isinstance(p, str)][: self.limit]

    def add(self, project_path: Path | str) -> None:
        path = normalize_path(project_path)
        self._write([path] + [p for p in self.paths() if p != path])

    def remove(self, project_path: Path | str) -> None:
        path = normalize_path(project_path)
        self._write([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._write([])

    def _write(self, paths: list[Path]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"recent": [str(p) for p in paths[: self.limit]]}, indent=1)
        write_text_atomic(self.path, text)
