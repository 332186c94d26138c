"""The app's own files (icons, style sheet, demo recipe), read through ``importlib.resources``.

They live in the repository's top-level ``resources/`` folder, which pyproject.toml installs as
the package ``swaptalk_desktop.resources``; nothing here knows where a checkout is, so an
editable install, a wheel and the one-folder bundle all read them the same way.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.abc import Traversable
from typing import Any

from .errors import SwapTalkError

PACKAGE = "swaptalk_desktop.resources"


def resource(relative: str) -> Traversable:
    """``relative`` (e.g. ``"icons/swaptalk.svg"``) inside the shipped resources; an error that
    says to reinstall when the installation lacks it."""
    try:
        root = resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise SwapTalkError(f"the app's resources ({PACKAGE}) are not installed; reinstall "
                            "SwapTalk Desktop (from a checkout: bash scripts/setup.sh)") from None
    found = root.joinpath(*relative.split("/"))
    if not found.is_file():
        raise SwapTalkError(f"resource {relative} is missing from {PACKAGE}; reinstall "
                            "SwapTalk Desktop")
    return found


def read_bytes(relative: str) -> bytes:
    return resource(relative).read_bytes()


def read_text(relative: str) -> str:
    return resource(relative).read_text(encoding="utf-8")


def read_json(relative: str) -> Any:
    return json.loads(read_text(relative))
