"""Model folders: search order, user folder, env folders, subfolders, conflicts, defaults."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swaptalk_desktop.core.errors import ModelError
from swaptalk_desktop.eval.synthetic_models import build_synthetic_set
from swaptalk_desktop.inference import (
    ModelRegistry,
    add_model_set,
    builtin_model_dir,
    load_manifest,
    user_model_dir,
)


def empty_manifest(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.json"
    path.write_text(json.dumps({"schema_version": 1, "models": [], "model_sets": []}))
    return path


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_a, env_b, extra = tmp_path / "env-a", tmp_path / "env-b", tmp_path / "extra"
    monkeypatch.setenv("SWAPTALK_MODELS_DIR", f"{env_a}{os.pathsep}{env_b}")
    registry = ModelRegistry(extra_dirs=[extra])
    assert registry.search_dirs == (builtin_model_dir(), env_a, env_b, extra, user_model_dir())
    assert builtin_model_dir() == Path(__file__).resolve().parents[2] / "models"
    assert ModelRegistry(include_builtin=False, include_user=False).search_dirs == (env_a, env_b)


def test_user_model_dir_follows_platformdirs(isolated_model_dirs: Path) -> None:
    # The autouse fixture points XDG_DATA_HOME into tmp_path.
    assert user_model_dir() == isolated_model_dirs / "swaptalk-desktop" / "models"


def test_no_installed_sets_says_where_models_go(tmp_path: Path) -> None:
    registry = ModelRegistry(extra_dirs=[tmp_path / "missing",
                                         empty_manifest(tmp_path / "e").parent],
                             include_builtin=False)
    with pytest.raises(ModelError, match="no models are installed") as err:
        registry.get_set(None)
    assert str(user_model_dir()) in str(err.value) and "SWAPTALK_MODELS_DIR" in str(err.value)
    assert registry.problems == []
    with pytest.raises(ModelError, match="no models are installed"):
        registry.get_set("synthetic")


def test_user_folder_subfolders_and_env_dirs(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    build_synthetic_set(user_model_dir() / "adapted-actor", set_id="adapted", crop_size=64)
    env_dir = tmp_path / "env"
    build_synthetic_set(env_dir, set_id="from-env", crop_size=64)
    build_synthetic_set(tmp_path / "extra" / "one" / "two", set_id="too-deep", crop_size=64)
    monkeypatch.setenv("SWAPTALK_MODELS_DIR", str(env_dir))
    registry = ModelRegistry(extra_dirs=[tmp_path / "extra"], include_builtin=False)
    assert [s.id for s in registry.sets()] == ["from-env", "adapted"]
    # The first default_set in search order wins.
    assert registry.get_set(None).id == "from-env"
    assert registry.get_set("adapted").manifest_path == (
        user_model_dir() / "adapted-actor" / "manifest.json").resolve()
    assert {m.id for m in registry.models()} >= {"adapted-encode", "from-env-decode"}
    with pytest.raises(ModelError, match="'nope' is not installed; available: adapted, from-env"):
        registry.get_set("nope")


def test_a_chosen_folders_default_overrides_the_shipped_one(tmp_path: Path) -> None:
    shipped = ModelRegistry(include_user=False)
    shipped_default = load_manifest(builtin_model_dir() / "swaptalk-small-v2" / "manifest.json")
    assert shipped.default_set_id() == shipped_default.default_set == "swaptalk-small-v2"
    build_synthetic_set(tmp_path / "mine", set_id="mine", crop_size=64)  # names itself default
    build_synthetic_set(tmp_path / "plain", set_id="plain", crop_size=64, make_default=False)
    assert ModelRegistry(extra_dirs=[tmp_path / "plain"]).default_set_id() == "swaptalk-small-v2"
    assert ModelRegistry(extra_dirs=[tmp_path / "mine"]).default_set_id() == "mine"
    build_synthetic_set(user_model_dir() / "exported", set_id="exported", crop_size=64)
    assert ModelRegistry().default_set_id() == "exported"


def test_conflicting_ids_are_reported_not_shadowed(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    build_synthetic_set(first, set_id="dup", crop_size=64)
    build_synthetic_set(second, set_id="dup", crop_size=64, tint=(0.5, 0.5, 0.5))
    registry = ModelRegistry(extra_dirs=[first, second], include_builtin=False)
    assert registry.get_set("dup").manifest_path == (first / "manifest.json").resolve()
    [problem] = registry.problems
    message = str(problem)
    assert "model id 'dup-encode'" in message
    assert str(second / "manifest.json") in message and str(first / "manifest.json") in message
    with pytest.raises(ModelError, match="a manifest was set aside"):
        registry.get_set("other")


def test_conflicting_set_ids_are_reported(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    build_synthetic_set(first, set_id="a", crop_size=64)
    build_synthetic_set(second, set_id="b", crop_size=64)
    add_model_set(second / "manifest.json", id="a", crop_size=64, mel_window=16,
                  stages={"encode": ["b-encode"], "decode": ["b-decode"]})
    registry = ModelRegistry(extra_dirs=[first, second], include_builtin=False)
    assert [s.id for s in registry.sets()] == ["a"]
    assert "model set 'a'" in str(registry.problems[0])


def test_same_folder_twice_is_not_a_conflict(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    build_synthetic_set(tmp_path / "m", crop_size=64)
    monkeypatch.setenv("SWAPTALK_MODELS_DIR", str(tmp_path / "m"))
    registry = ModelRegistry(extra_dirs=[tmp_path / "m" / ".." / "m"], include_builtin=False)
    assert [s.id for s in registry.sets()] == ["synthetic"] and registry.problems == []


def test_broken_manifest_is_set_aside_and_reported(tmp_path: Path) -> None:
    build_synthetic_set(tmp_path / "good", crop_size=64)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text('{"schema_version": 1, "models": 3}')
    registry = ModelRegistry(extra_dirs=[tmp_path / "good", tmp_path / "bad"],
                             include_builtin=False)
    assert registry.get_set(None).id == "synthetic"
    assert str(tmp_path / "bad" / "manifest.json") in str(registry.problems[0])


def test_adapted_set_reuses_models_of_an_earlier_manifest(tmp_path: Path) -> None:
    base = tmp_path / "base"
    build_synthetic_set(base, set_id="base", crop_size=64)
    adapted = user_model_dir() / "actor"
    build_synthetic_set(adapted, set_id="actor-tuned", crop_size=64, sync_mode="zero",
                        make_default=False)
    add_model_set(adapted / "manifest.json", id="actor", crop_size=64, mel_window=16,
                  stages={"encode": ["base-encode"], "swap": ["base-swap"],
                          "sync": ["actor-tuned-sync"], "decode": ["actor-tuned-decode"]})
    registry = ModelRegistry(extra_dirs=[base], include_builtin=False)
    actor = registry.get_set("actor")
    assert actor.stages["encode"][0].path == (base / "base-encode.onnx").resolve()
    assert actor.stages["sync"][0].path == (adapted / "actor-tuned-sync.onnx").resolve()
    # Without the base folder the adapted set cannot resolve: reported, not crashing.
    alone = ModelRegistry(include_builtin=False)
    assert "unknown model id 'base-encode'" in str(alone.problems[0])


def test_verify_all(tmp_path: Path) -> None:
    build_synthetic_set(tmp_path / "m", crop_size=64)
    registry = ModelRegistry(extra_dirs=[tmp_path / "m"], include_builtin=False)
    results = registry.verify_all()
    assert len(results) == 4 and all(ok for _, ok, _ in results)
    target = tmp_path / "m" / "synthetic-sync.onnx"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    bad = [(e.id, msg) for e, ok, msg in registry.verify_all() if not ok]
    assert len(bad) == 1 and bad[0][0] == "synthetic-sync"
    assert "does not match the sha256" in bad[0][1] and str(target) in bad[0][1]
    ok, message = registry.verify(registry.get_set(None).stages["sync"][0])
    assert not ok and "reinstall or re-export it" in message
