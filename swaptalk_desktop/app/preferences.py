"""Application preferences (not part of any project): provider, models, cache, autosave.

Stored as JSON in the user config folder. The provider and model set chosen here are the
defaults for new projects; a project keeps its own copy in ``Project.settings``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from ..core.atomic import write_text_atomic

log = logging.getLogger(__name__)
CACHE_ENV = "SWAPTALK_CACHE_DIR"


def preferences_file() -> Path:
    return Path(platformdirs.user_config_dir("swaptalk-desktop")) / "preferences.json"


@dataclass
class Preferences:
    provider: str = "auto"
    model_set: str | None = None
    models_dirs: list[str] = field(default_factory=list)
    """Extra folders with a models manifest.json (besides models/ and SWAPTALK_MODELS_DIR)."""
    cache_dir: str | None = None
    """None: the platform's cache folder (or $SWAPTALK_CACHE_DIR)."""
    cache_limit_gb: float = 5.0
    autosave_s: int = 30
    last_folder: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Preferences:
        path = path or preferences_file()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as err:
            log.warning("ignoring unreadable preferences %s: %s", path, err)
            return cls()
        known = {f.name for f in fields(cls)}
        prefs = cls(**{k: v for k, v in data.items() if k in known})
        if prefs.provider not in ("auto", "cuda", "cpu"):
            prefs.provider = "auto"
        return prefs

    def save(self, path: Path | None = None) -> None:
        path = path or preferences_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(asdict(self), indent=1))

    def apply_cache_location(self) -> None:
        """The engine reads its cache folder from the environment (one process-wide root)."""
        if self.cache_dir:
            os.environ[CACHE_ENV] = self.cache_dir

    @property
    def cache_limit_bytes(self) -> int:
        return int(max(0.1, self.cache_limit_gb) * 1024**3)
