import json

from swaptalk_desktop.cli import main


def test_bench_render_gives_each_stage_its_share(tmp_path, capsys):
    out = tmp_path / "stages.json"
    assert main(["bench", "render", "--height", "360", "--clip-seconds", "4", "--frames",
                 "12", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["case"], r["size"], r["frames"]) for r in rows] == [
        ("sync only", "640x360", 12), ("swap + sync", "640x360", 12)]
    for r in rows:
        assert r["write_mode"] == "smart" and 0 < r["frames_reencoded"] < 100
        seconds = {s["stage"]: s["seconds"] for s in r["stages"]}
        assert seconds["paste back (mask, warp, blend)"] > 0
        # the stages account for the wall time, "other" being what they leave
        assert abs(sum(seconds.values()) - r["wall_s"]) < 0.05 * r["wall_s"] + 0.02
        # the mouth library's pass over the 4 s take tracks the range too
        library = seconds["track the range and the footage around it (mouth library)"]
        assert library > 0 and seconds["track the range"] < 0.25 * library
        assert r["fps_once_tracked"] > r["fps"]
    assert "ms per frame" in capsys.readouterr().out


def test_bench_render_variants_write_a_table_and_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "render", "--variants", "--frames", "12", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [r["frames"] for r in result["rows"]] == [12, 12, 12, 12]
    # the last row runs the shipped weights, the others the near-free test graphs
    assert [r["model_set"] for r in result["rows"]] == ["synthetic"] * 3 + ["swaptalk-small-v2"]
    assert all(r["fps"] > 0 and r["write_fps"] > 0 for r in result["rows"])
    assert "time_ratio_vs_first" in capsys.readouterr().out


def test_bench_scrub_times_each_case_in_the_editor(tmp_path, capsys, monkeypatch):
    import pytest
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    out = tmp_path / "scrub.json"
    assert main(["bench", "scrub", "--clip-seconds", "2", "--height", "240", "--moves", "2",
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    cases = {c["case"]: c for c in result["cases"]}
    assert list(cases) == ["processed", "not processed, swap + sync",
                           "not processed, swap only", "outside"]
    for c in cases.values():
        assert c["moves"] == c["shown"] == 2
        assert 0 < c["shown_ms_p50"] <= c["shown_ms_p95"] <= c["shown_ms_max"] < 30_000
        assert c["painted_ms_p50"] >= c["shown_ms_p50"] * 0.5
    assert cases["processed"]["user_sees"] == ["processed (from cache)"]
    assert cases["processed"]["picture_changed"] == "2/2"
    assert cases["outside"]["user_sees"] == ["outside the edits: source shown"]
    for row in result["moves"]:  # the frame shown is the frame the playhead moved to
        assert row["playhead"] == row["viewer_index"] == row["frame"]
    assert result["max_stall_ms"] >= 0
    assert "shown_ms_p95" in capsys.readouterr().out
