"""The installer's smoke tests, run when SWAPTALK_INSTALLER_SMOKE=1 (they take minutes, need
PyPI for a fresh venv, and the bundle build needs a few GB of disk):

    SWAPTALK_INSTALLER_SMOKE=1 QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/installer

or the scripts themselves: installer/wheel_smoke.sh, installer/build.sh then installer/smoke.sh.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(os.environ.get("SWAPTALK_INSTALLER_SMOKE") != "1",
                                reason="set SWAPTALK_INSTALLER_SMOKE=1 to build and run the "
                                "installed app (minutes; see installer/README.md)")


def _run(*argv: str, timeout: int) -> str:
    run = subprocess.run(["bash", *argv], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return run.stdout


@pytest.mark.timeout(1800)
def test_a_fresh_venv_from_the_wheel_runs_the_demo_and_the_editor():
    assert "wheel_smoke: ok" in _run("installer/wheel_smoke.sh", timeout=1800)


@pytest.mark.timeout(3600)
def test_the_bundle_runs_the_demo_and_the_editor(tmp_path):
    build = os.environ.get("SWAPTALK_INSTALLER_BUILD_DIR", str(ROOT / "build" / "installer"))
    _run("installer/build.sh", build, timeout=3600)
    assert "smoke: ok" in _run("installer/smoke.sh", str(Path(build) / "dist" / "swaptalk"),
                               timeout=1200)
