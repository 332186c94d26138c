"""What the wheel carries (built here without network, ~15 s), and the mediapipe metadata rewrite.

The full checks, a fresh venv from the wheel running `swaptalk demo` and the PyInstaller bundle
running it and the editor, take minutes and download wheels: they run from
tests/installer/test_smoke_scripts.py when SWAPTALK_INSTALLER_SMOKE=1 (installer/README.md).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import json
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_mediapipe_wheel():
    spec = importlib.util.spec_from_file_location("mediapipe_wheel",
                                                  ROOT / "installer" / "mediapipe_wheel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _setuptools_version() -> tuple[int, ...]:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return tuple(int(p) for p in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return (0,)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout (the wheel is built from what git would commit)")
    tmp = tmp_path_factory.mktemp("wheel")
    src, out = tmp / "src", tmp / "dist"
    src.mkdir()
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        path = ROOT / name.decode()
        if path.is_file():
            (src / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            (src / name.decode()).write_bytes(path.read_bytes())
    # with this venv's setuptools when it can build a wheel itself (70.1+; torch of the dev
    # extras pulls in 77+), so no network is needed; else pip fetches the build requirements
    isolation = [] if _setuptools_version() < (70, 1) else ["--no-build-isolation"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation,
                    str(src), "-w", str(out)], check=True, capture_output=True, timeout=600)
    [built] = out.glob("swaptalk_desktop-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_resources_and_every_model_file_its_manifests_name(wheel):
    names = set(wheel.namelist())
    for resource in ("styles/editor.qss", "icons/swaptalk.svg", "icons/swaptalk-256.png",
                     "demo/recipe.json"):
        assert f"swaptalk_desktop/resources/{resource}" in names
    manifests = sorted(n for n in names if n.startswith("swaptalk_desktop/models/")
                       and n.endswith("/manifest.json"))
    assert len(manifests) >= 3
    for manifest in manifests:
        folder = manifest.rsplit("/", 1)[0]
        for model in json.loads(wheel.read(manifest))["models"]:
            data = wheel.read(f"{folder}/{model['file']}")
            assert hashlib.sha256(data).hexdigest() == model["sha256"], model["id"]
    assert any(n.endswith(".train.safetensors") for n in names), "adaptation starts from these"
    assert not any("__pycache__" in n or n.startswith(("tests/", "installer/")) for n in names)


def test_the_wheel_declares_mediapipe_and_its_commands(wheel):
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    requires = Parser().parsestr(wheel.read(info).decode()).get_all("Requires-Dist")
    assert "mediapipe==0.10.21" in requires
    entry_points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "swaptalk = swaptalk_desktop.cli:main" in entry_points
    assert "swaptalk-desktop = swaptalk_desktop.ui.app:main" in entry_points


def _fake_upstream(folder: Path, version: str) -> Path:
    path = folder / f"mediapipe-{version}-cp311-cp311-manylinux_2_28_x86_64.whl"
    info = f"mediapipe-{version}.dist-info"
    metadata = (f"Metadata-Version: 2.1\nName: mediapipe\nVersion: {version}\n"
                "Requires-Dist: numpy<2\nRequires-Dist: opencv-contrib-python\n"
                "Requires-Dist: protobuf<5,>=4.25.3\n\nThe description.\n")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mediapipe/__init__.py", "x = 1\n")
        zf.writestr("mediapipe/modules/face_detection/model.tflite", b"\x00\x01")
        zf.writestr(f"{info}/METADATA", metadata)
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
        zf.writestr(f"{info}/RECORD", "stale,,\n")
    return path


def test_mediapipe_repack_keeps_the_files_and_replaces_only_the_requirements(tmp_path):
    mw = _load_mediapipe_wheel()
    upstream = _fake_upstream(tmp_path, mw.UPSTREAM)
    (tmp_path / "out").mkdir()
    out = mw.repack(upstream, tmp_path / "out")
    assert out.name.startswith(f"mediapipe-{mw.LOCAL}-cp311-cp311-")
    with zipfile.ZipFile(upstream) as old, zipfile.ZipFile(out) as new:
        assert new.read("mediapipe/modules/face_detection/model.tflite") == b"\x00\x01"
        assert new.read("mediapipe/__init__.py") == old.read("mediapipe/__init__.py")
        info = f"mediapipe-{mw.LOCAL}.dist-info"
        meta = Parser().parsestr(new.read(f"{info}/METADATA").decode())
        assert meta["Version"] == mw.LOCAL
        assert sorted(meta.get_all("Requires-Dist")) == sorted(mw.REQUIRES)
        assert "opencv-contrib-python" not in str(meta) and "numpy<2" not in str(meta)
        assert "The description." in meta.get_payload()
        rows = list(csv.reader(io.StringIO(new.read(f"{info}/RECORD").decode())))
        listed = {row[0] for row in rows}
        assert listed == {n for n in new.namelist() if not n.endswith("/")}
        for name, digest, size in rows:
            if name.endswith("RECORD"):
                continue
            data = new.read(name)
            expect = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expect.decode() and int(size) == len(data)
