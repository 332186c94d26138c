import json

from swaptalk_desktop.cli import main


def test_bench_render_writes_a_table_and_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "render", "--frames", "12", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [r["frames"] for r in result["rows"]] == [12, 12, 12, 12]
    # the last row runs the shipped weights, the others the near-free test graphs
    assert [r["model_set"] for r in result["rows"]] == ["synthetic"] * 3 + ["swaptalk-small-v2"]
    assert all(r["fps"] > 0 and r["write_fps"] > 0 for r in result["rows"])
    assert "time_ratio_vs_first" in capsys.readouterr().out
