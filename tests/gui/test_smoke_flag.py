"""`swaptalk-desktop --smoke` (ui/smoke.py), what the installer's smoke test starts: the editor
comes up with the style sheet and icon from resources/ and the shipped models, and quits."""

import json

from swaptalk_desktop.ui import smoke


def test_smoke_reports_the_window_it_showed_and_quits(qapp, tmp_path, capsys):
    shot = tmp_path / "editor.png"
    assert smoke.main(["--seconds", "0", "--screenshot", str(shot)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["ok"] and report["errors"] == []
    assert report["window"].endswith("SwapTalk Desktop") and report["icon"]
    assert report["style_sheet_chars"] > 1000 and "swaptalk-small-v2" in report["model_sets"]
    assert report["seconds_to_event_loop"] <= report["seconds_to_report"]
    assert shot.stat().st_size > 1000
