"""The README's main job runs on the plain set-up (`bash scripts/setup.sh`, no extras): the demo
must not need a package that only the train/dev extras install."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# distribution name -> the modules it provides, for every package of the extras
MODULES = {"torch": ["torch"], "onnx": ["onnx"], "safetensors": ["safetensors"],
           "pytest": ["pytest", "_pytest"], "pytest-qt": ["pytestqt"],
           "pytest-timeout": ["pytest_timeout"], "hypothesis": ["hypothesis"],
           "imageio-ffmpeg": ["imageio_ffmpeg"], "ruff": ["ruff"], "scikit-image": ["skimage"]}

BLOCKER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is only in the train/dev extras")
sys.meta_path.insert(0, Block())
from swaptalk_desktop.cli import main
sys.exit(main(["demo", "-o", sys.argv[1], "--quiet"]))
"""


def extras_only() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = lambda req: req.split("==")[0].split("[")[0].strip().lower()  # noqa: E731
    main = {name(r) for r in project["dependencies"]}
    extra = {name(r) for reqs in project["optional-dependencies"].values() for r in reqs}
    extra.discard("swaptalk-desktop")
    unknown = extra - set(MODULES)
    assert not unknown, f"add the module names of {sorted(unknown)} to MODULES"
    return {m for dist in extra - main for m in MODULES[dist]}


def test_demo_runs_without_the_extras(tmp_path):
    blocked = extras_only()
    assert "torch" in blocked and "pytest" in blocked
    code = f"BLOCKED = {sorted(blocked)!r}\n{BLOCKER}"
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "demo")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "demo" / "demo_result.mp4").stat().st_size > 10_000
