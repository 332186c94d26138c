"""`swaptalk-desktop --smoke` (ui/smoke.py), what the installer's smoke test starts: the editor
comes up with the style sheet and icon from resources/ and the shipped models, and quits."""

import json
import subprocess
import sys


def test_smoke_reports_the_window_it_showed_and_quits(tmp_path):
    # in a process of its own: the smoke run quits its application, which leaves the later
    # GUI tests of this process without working background threads
    shot = tmp_path / "editor.png"
    run = subprocess.run([sys.executable, "-c", "import sys; from swaptalk_desktop.ui import "
                          "smoke; sys.exit(smoke.main(sys.argv[1:]))", "--seconds", "0",
                          "--screenshot", str(shot)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["errors"] == []
    assert report["window"].endswith("SwapTalk Desktop") and report["icon"]
    assert report["style_sheet_chars"] > 1000 and "swaptalk-small-v2" in report["model_sets"]
    assert report["seconds_to_event_loop"] <= report["seconds_to_report"]
    assert shot.stat().st_size > 1000
