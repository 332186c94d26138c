"""The plugin host: manifests read without importing, broken plugins disabled with a reason,
backends and model set sources from plugins, the first-party plugins found like any other."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from plugin_helpers import (
    install_broken_plugin,
    install_plugin,
    processor_manifest,
)

from swaptalk_desktop.core.errors import ModelError, PluginError
from swaptalk_desktop.core.plugin_manifest import FRAME_PROCESSOR, INFERENCE_BACKEND
from swaptalk_desktop.core.plugins import plugin_host
from swaptalk_desktop.engine.frame_processors import apply_processors, resolve_processors
from swaptalk_desktop.inference import ModelRegistry
from swaptalk_desktop.inference.providers import plan_providers, provider_choices


def test_first_party_plugins_are_found_through_entry_points() -> None:
    plugins = {p.name: p for p in plugin_host().plugins()}
    assert plugins["swaptalk-onnxruntime"].enabled
    assert {c.id for c in plugins["swaptalk-onnxruntime"].contributions} == {"cpu", "cuda"}
    sharpen = plugins["swaptalk-example-sharpen"]
    assert sharpen.enabled and sharpen.version == "1.0.0"
    assert [c.id for c in sharpen.contributions] == ["example.sharpen"]
    assert "swaptalk_desktop.plugins" not in sharpen.source  # names the entry point
    assert set(provider_choices()) >= {"auto", "cpu", "cuda"}


def test_manifest_is_listed_without_importing_the_plugin(tmp_path, monkeypatch) -> None:
    install_broken_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = plugin_host().plugin("swaptalk-broken-test")
    assert plugin is not None and plugin.enabled, plugin
    assert [c.id for c in plugin.contributions] == ["broken.boom"]
    assert "swaptalk_broken_test" not in sys.modules
    # first use imports it: the import error disables the plugin with a one-line reason
    with pytest.raises(PluginError, match="broken on purpose") as err:
        resolve_processors(("broken.boom",))
    assert "\n" not in str(err.value)
    assert not plugin.enabled and "RuntimeError: this plugin is broken on purpose" in \
        plugin.reason
    assert plugin_host().problems() == [f"plugin swaptalk-broken-test: {plugin.reason}"]
    with pytest.raises(PluginError, match="which is disabled: cannot load"):
        resolve_processors(("broken.boom",))
    # the others are untouched
    assert plugin_host().plugin("swaptalk-example-sharpen").enabled
    assert resolve_processors(("example.sharpen",))[0].id == "example.sharpen"


def test_manifest_found_through_the_package_folder_too(tmp_path, monkeypatch) -> None:
    """An editable install's RECORD does not list the package's files."""
    install_plugin(tmp_path, "swaptalk-norecord", "swaptalk_norecord",
                   processor_manifest("swaptalk-norecord", "norecord.x", "swaptalk_norecord:f"),
                   in_record=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = plugin_host().plugin("swaptalk-norecord")
    assert plugin.enabled and plugin.manifest.path.parent == tmp_path / "swaptalk_norecord"
    assert "swaptalk_norecord" not in sys.modules


@pytest.mark.parametrize("manifest, reason", [
    ('name = "x"\nversion = "1"\n', "has no 'schema'"),
    ("schema = 1\nname = [1\n", "is not valid TOML"),
    ('schema = 9\nname = "x"\nversion = "1"\n', "update SwapTalk Desktop"),
    ('schema = 1\nname = "x"\nversion = "1"\n[[contributions.frame_processors]]\nid = "Bad Id"'
     '\npython_name = "m:f"\n', "may use only lower-case"),
    ('schema = 1\nname = "x"\nversion = "1"\n[[contributions.frame_processors]]\nid = "a"\n',
     "has no 'python_name'"),
    ('schema = 1\nname = "x"\nversion = "1"\n[[contributions.inference_backends]]\nid = "a"\n'
     'providers = "CPU"\n', "'providers' must be a non-empty list"),
    (None, "manifest swaptalk_plugin.toml not found in package swaptalk_bad"),
])
def test_invalid_manifest_disables_only_that_plugin(tmp_path, monkeypatch, manifest,
                                                    reason) -> None:
    install_plugin(tmp_path, "swaptalk-bad", "swaptalk_bad", manifest)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = {p.source.split()[2]: p for p in plugin_host().plugins()}
    bad = plugins["swaptalk-bad"]
    assert not bad.enabled and not bad.by_user and reason in bad.reason, bad.reason
    assert "\n" not in bad.reason
    assert plugins["swaptalk-example-sharpen"].enabled
    assert plan_providers("cpu").active == "CPU"


def test_unknown_kind_is_a_note_not_a_failure(tmp_path, monkeypatch) -> None:
    install_plugin(tmp_path, "swaptalk-future", "swaptalk_future",
                   'schema = 1\nname = "swaptalk-future"\nversion = "2"\n'
                   '[[contributions.timeline_effects]]\nid = "x"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = plugin_host().plugin("swaptalk-future")
    assert plugin.enabled and "timeline_effects" in plugin.notes[0]


def test_clashing_contribution_disables_the_later_plugin(tmp_path, monkeypatch) -> None:
    install_plugin(tmp_path, "swaptalk-copycat", "swaptalk_copycat",
                   processor_manifest("swaptalk-copycat", "example.sharpen", "swaptalk_copycat:f"))
    monkeypatch.syspath_prepend(str(tmp_path))
    copycat = plugin_host().plugin("swaptalk-copycat")
    original = plugin_host().plugin("swaptalk-example-sharpen")
    first, later = sorted([copycat, original], key=plugin_host().plugins().index)
    assert first.enabled and not later.enabled
    assert f"already provided by plugin {first.name}" in later.reason


def test_user_can_disable_a_plugin(monkeypatch) -> None:
    monkeypatch.setenv("SWAPTALK_DISABLE_PLUGINS", "swaptalk-example-sharpen")
    plugin = plugin_host().plugin("swaptalk-example-sharpen")
    assert not plugin.enabled and plugin.by_user
    assert plugin.status == "disabled by SWAPTALK_DISABLE_PLUGINS"
    assert plugin_host().problems() == []  # turned off on purpose is not a problem
    with pytest.raises(PluginError, match="disabled by SWAPTALK_DISABLE_PLUGINS"):
        resolve_processors(("example.sharpen",))
    with pytest.raises(PluginError, match=r"no frame processor 'nope' is installed "
                       r"\(installed: none\)"):
        plugin_host().find(FRAME_PROCESSOR, "nope")


def test_all_plugins_off_still_leaves_cpu(monkeypatch) -> None:
    monkeypatch.setenv("SWAPTALK_DISABLE_PLUGINS", "all")
    assert plugin_host().contributions(INFERENCE_BACKEND) == []
    plan = plan_providers("auto")
    assert plan.active == "CPU" and plan.providers == ("CPUExecutionProvider",)
    with pytest.raises(ModelError, match="unknown provider 'cuda'; choose one of auto, cpu"):
        plan_providers("cuda")


BACKEND = """schema = 1
name = "swaptalk-fake-backend"
version = "0.3"
[[contributions.inference_backends]]
id = "fakecpu"
title = "Fake CPU"
short_name = "FakeCPU"
providers = ["CPUExecutionProvider"]
auto_priority = {priority}
probe = "{package}:probe"
"""


def test_backend_from_a_plugin(tmp_path, monkeypatch) -> None:
    install_plugin(tmp_path, "swaptalk-fake-backend", "swaptalk_fake_backend",
                   BACKEND.format(priority=500, package="swaptalk_fake_backend"),
                   {"__init__.py": "def probe(device_id):\n    return True, 'fake is fine'\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "fakecpu" in provider_choices()
    plan = plan_providers("fakecpu")
    assert (plan.active, plan.providers, plan.reason) == ("FakeCPU", ("CPUExecutionProvider",),
                                                          "fake is fine")
    assert plan_providers("auto").active == "FakeCPU"  # the highest priority that works


def test_backend_whose_probe_raises(tmp_path, monkeypatch) -> None:
    install_plugin(tmp_path, "swaptalk-fake-backend", "swaptalk_raising_backend",
                   BACKEND.format(priority=500, package="swaptalk_raising_backend"),
                   {"__init__.py": "def probe(device_id):\n    raise OSError('no device')\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    auto = plan_providers("auto")  # skips it, with the reason
    assert auto.active in ("CPU", "CUDA") and "FakeCPU not used" in auto.reason
    plugin = plugin_host().plugin("swaptalk-fake-backend")
    assert not plugin.enabled and "OSError: no device" in plugin.reason
    with pytest.raises(ModelError, match="fakecpu"):
        plan_providers("fakecpu")


def test_model_sources_from_plugins(tmp_path, monkeypatch, models_dir) -> None:
    folder = install_plugin(tmp_path, "swaptalk-fake-models", "swaptalk_fake_models",
                            'schema = 1\nname = "swaptalk-fake-models"\nversion = "1"\n'
                            '[[contributions.model_sources]]\nid = "bundled"\n'
                            'folder = "models"\n')
    shutil.copytree(models_dir / "mel", folder / "models" / "mel")
    install_plugin(tmp_path, "swaptalk-bad-models", "swaptalk_bad_models",
                   'schema = 1\nname = "swaptalk-bad-models"\nversion = "1"\n'
                   '[[contributions.model_sources]]\nid = "broken"\n'
                   'python_name = "swaptalk_bad_models:folders"\n',
                   {"__init__.py": "def folders():\n    raise ValueError('server down')\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ModelRegistry(extra_dirs=[models_dir / "tint"], include_builtin=False,
                             include_user=False)
    assert [s.id for s in registry.sets()] == ["tint", "mel"]
    assert registry.default_set_id() == "tint"  # a plugin's set never takes the default
    assert registry.search_dirs[-1] == folder / "models"
    bad = plugin_host().plugin("swaptalk-bad-models")
    assert not bad.enabled and "ValueError: server down" in bad.reason
    alone = ModelRegistry(extra_dirs=[models_dir / "tint"], include_builtin=False,
                          include_user=False, include_plugins=False)
    assert [s.id for s in alone.sets()] == ["tint"]


def test_processor_that_raises_or_returns_garbage(tmp_path, monkeypatch) -> None:
    code = ("import numpy as np\n"
            "def boom(crops, marks):\n    raise ZeroDivisionError('oops')\n"
            "def garbage(crops, marks):\n    return crops.astype(np.float32)\n")
    manifest = processor_manifest("swaptalk-flaky", "flaky.boom", "swaptalk_flaky:boom")
    manifest += ('[[contributions.frame_processors]]\nid = "flaky.garbage"\n'
                 'python_name = "swaptalk_flaky:garbage"\n')
    install_plugin(tmp_path, "swaptalk-flaky", "swaptalk_flaky", manifest, {"__init__.py": code})
    monkeypatch.syspath_prepend(str(tmp_path))
    crops = np.zeros((2, 8, 8, 3), np.uint8)
    marks = np.zeros((2, 478, 2), np.float32)
    garbage = resolve_processors(("flaky.garbage",))
    with pytest.raises(PluginError, match=r"returned float32 \[2, 8, 8, 3\], not uint8"):
        apply_processors(garbage, crops, marks)
    assert not plugin_host().plugin("swaptalk-flaky").enabled


def test_example_processor_sharpens_only_rows_with_a_face() -> None:
    stages = resolve_processors(("example.sharpen",))
    rng = np.random.default_rng(1)
    crops = rng.integers(60, 200, (3, 32, 32, 3), dtype=np.uint8)
    marks = np.zeros((3, 478, 2), np.float32)
    out = apply_processors(stages, crops, marks, np.array([True, False, True]))
    assert out.dtype == np.uint8 and out.shape == crops.shape
    assert np.array_equal(out[1], crops[1])
    assert np.abs(out[0].astype(int) - crops[0]).mean() > 5
    # sharpening adds contrast: the crop's spread grows
    assert out[2].std() > crops[2].std()


def test_plugins_list_command_reports_a_broken_plugin(tmp_path, monkeypatch, capsys) -> None:
    install_broken_plugin(tmp_path)
    install_plugin(tmp_path, "swaptalk-bad", "swaptalk_bad", "schema = nope\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env.pop("SWAPTALK_DISABLE_PLUGINS", None)
    run = subprocess.run([sys.executable, "-m", "swaptalk_desktop", "plugins", "list",
                          "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    listed = {p["name"]: p for p in json.loads(run.stdout)}
    assert listed["swaptalk-bad"]["enabled"] is False
    assert "not valid TOML" in listed["swaptalk-bad"]["reason"]
    # listing imports nothing, so the plugin that raises on import is listed as fine
    assert listed["swaptalk-broken-test"]["enabled"] is True
    assert listed["swaptalk-example-sharpen"]["contributions"][0]["id"] == "example.sharpen"

    from swaptalk_desktop.cli import main
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["plugins", "list"]) == 0
    out, err = capsys.readouterr()
    assert "swaptalk-bad: disabled: swaptalk_plugin.toml is not valid TOML" in out
    assert "frame processor   example.sharpen (Sharpen face (unsharp mask), 1.0.0)" in out
    assert "1 plugin disabled because it is broken" in err


def test_an_unreadable_entry_points_file_hides_no_other_plugin(tmp_path, monkeypatch) -> None:
    info = tmp_path / "brokenep-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenep\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[swaptalk_desktop.plugins]\nno equals sign\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = [p.name for p in plugin_host().plugins()]
    assert {"swaptalk-onnxruntime", "swaptalk-example-sharpen"} <= set(names)
