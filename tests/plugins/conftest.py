"""Every plugin test gets its own plugin host, rescanned, and the previous one back after."""

from __future__ import annotations

import pytest

from swaptalk_desktop.core.plugins import set_plugin_host


@pytest.fixture(autouse=True)
def own_plugin_host(monkeypatch):
    monkeypatch.delenv("SWAPTALK_DISABLE_PLUGINS", raising=False)
    old = set_plugin_host(None)
    yield
    set_plugin_host(old)
