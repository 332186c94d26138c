import json

import numpy as np
from render_helpers import decode_all

from swaptalk_desktop.cli import main
from swaptalk_desktop.inference import ModelRegistry


def test_demo_runs_on_shipped_models_without_user_media(tmp_path, capsys):
    folder = tmp_path / "demo"
    assert main(["demo", "-o", str(folder), "--quiet"]) == 0
    out = folder / "demo_result.mp4"
    assert out.exists() and (folder / "demo_result.mp4.swaptalk.json").exists()
    record = json.loads((folder / "demo_result.mp4.swaptalk.json").read_text())
    start, stop = record["edits"][0]["frames"]
    src, dst = decode_all(folder / "sample_clip.mp4"), decode_all(out)
    assert len(src) == len(dst) == stop + 25 and start == 25
    diffs = [np.abs(a.astype(int) - b.astype(int)).max(-1) for a, b in zip(src, dst, strict=True)]
    assert all((d > 30).sum() > 500 for d in diffs[start:stop]), "the range was not re-rendered"
    # outside the range only the re-encode's noise remains
    outside = [np.abs(a.astype(int) - b.astype(int)).mean()
               for a, b in zip(src[:start] + src[stop:], dst[:start] + dst[stop:], strict=True)]
    assert max(outside) < 2, "frames outside the range changed"
    # the demo runs, and names, the default set: the shipped SwapTalk weights
    assert ModelRegistry().default_set_id() in capsys.readouterr().err


def test_shipped_models_verify(capsys):
    assert main(["models", "verify"]) == 0
    assert "13 of 13 model files verified" in capsys.readouterr().out
