"""`swaptalk models install`: sets copied into the user model folder only after their sha256
and ids check out; a failed install leaves the folder as it was."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from swaptalk_desktop.cli import main
from swaptalk_desktop.inference import ModelRegistry, builtin_model_dir, user_model_dir


def renamed_set(tmp_path: Path, name: str = "check-copy") -> Path:
    """The shipped pipeline-check set under new ids (the shipped ids are installed already)."""
    folder = tmp_path / name
    shutil.copytree(builtin_model_dir() / "pipeline-check", folder)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["default_set"] = None
    for model in manifest["models"]:
        model["id"] = model["id"].replace("pipeline-check", name)
    for model_set in manifest["model_sets"]:
        model_set["id"] = name
        model_set["stages"] = {k: [i.replace("pipeline-check", name) for i in v]
                               for k, v in model_set["stages"].items()}
    path.write_text(json.dumps(manifest, indent=2))
    return folder


def test_install_copies_a_verified_set_that_the_registry_then_finds(tmp_path, capsys):
    source = renamed_set(tmp_path)
    assert main(["models", "install", str(source)]) == 0
    assert "installed check-copy: check-copy (4 model files verified)" in capsys.readouterr().out
    assert (user_model_dir() / "check-copy" / "manifest.json").is_file()
    assert ModelRegistry().get_set("check-copy").stages["swap"][0].path.is_relative_to(
        user_model_dir())
    # again: refused without --replace, replaced with it
    assert main(["models", "install", str(source)]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["models", "install", str(source), "--replace"]) == 0
    assert "replaced check-copy" in capsys.readouterr().out


def test_a_tampered_file_installs_nothing(tmp_path, capsys):
    source = renamed_set(tmp_path)
    onnx = next(source.glob("*swap.onnx"))
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    assert main(["models", "install", str(source)]) == 2
    assert "does not match the sha256" in capsys.readouterr().err
    assert not (user_model_dir() / "check-copy").exists()
    leftovers = [p for p in user_model_dir().parent.iterdir() if p.name != "models"]
    assert leftovers == []


def test_the_shipped_sets_again_are_refused_for_their_ids(capsys):
    assert main(["models", "install", str(builtin_model_dir())]) == 2
    err = capsys.readouterr().err
    assert "already defined by" in err and "not installed" in err
    assert not user_model_dir().exists() or list(user_model_dir().iterdir()) == []


def test_install_from_a_zip_of_a_set_folder(tmp_path, capsys):
    source = renamed_set(tmp_path, "zipped-set")
    archive = tmp_path / "zipped-set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in source.rglob("*"):
            zf.write(path, path.relative_to(tmp_path))
    assert main(["models", "install", str(archive), "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["sets"] == ["zipped-set"] and not record["replaced"]
    assert main(["models", "verify"]) == 0


@pytest.mark.parametrize("argv, wording", [
    (["models", "install"], "needs a SOURCE"),
    (["models", "list", "somewhere"], "did you mean 'models install somewhere'"),
])
def test_usage_mistakes_are_worded(argv, wording, capsys):
    assert main(argv) == 2
    assert wording in capsys.readouterr().err
