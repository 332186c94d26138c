"""The ``swaptalk train`` commands end to end at the tiny size, and without torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from training_data_helpers import synthetic_videos, tiny_dataset, tiny_runs

from swaptalk_desktop.cli import main
from swaptalk_desktop.cli.train_cmd import EXTRAS_MESSAGE


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_train_and_encode_commands(tmp_path, tmp_path_factory, capsys):
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset(tmp_path_factory), data)
    run = tmp_path / "runs" / "vqgan"
    args = ["train", "vqgan", "--data", str(data), "--run", str(run), "--config", "tiny",
            "--steps", "4", "--log-every", "2", "--threads", "1", "--device", "cpu"]
    assert main([*args, "--json-progress"]) == 0
    lines = _json_lines(capsys.readouterr().out)
    progress = [x for x in lines if x["event"] == "progress" and x["stage"] == "train vqgan"]
    assert progress[-1]["done"] == 4 and progress[-1]["eta_s"] == 0
    info = [x["message"] for x in lines if x["event"] == "info"]
    assert any("vqgan step 2/4" in m and "ETA" in m for m in info)
    done = lines[-1]
    assert done["event"] == "done" and done["step"] == 4 and done["config"] == "tiny"
    # a larger --steps continues the run; the config comes from the run itself
    assert main(["train", "vqgan", "--data", str(data), "--run", str(run), "--steps", "6",
                 "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert "resuming vqgan from step 4" in err and "at step 6" in err
    assert main(["train", "encode", "--data", str(data), "--vqgan", str(run), "--json-progress"]) \
        == 0
    done = _json_lines(capsys.readouterr().out)[-1]
    assert done["clips"] == 2 and (data / "latents" / done["fingerprint"]).is_dir()
    # a frozen run of another size is refused with the fix in the message
    code = main(["train", "expert", "--data", str(data), "--run", str(tmp_path / "e"),
                 "--vqgan", str(run), "--config", "small"])
    assert code == 2 and "use the same --config" in capsys.readouterr().err


def test_stage_commands_chain(tmp_path, tmp_path_factory, capsys):
    data = tiny_dataset(tmp_path_factory)
    runs = tiny_runs(tmp_path_factory)
    out = tmp_path / "sync"
    code = main(["train", "sync", "--data", str(data), "--run", str(out), "--vqgan",
                 str(runs / "vqgan"), "--expert", str(runs / "expert"), "--steps", "3",
                 "--threads", "1"])
    assert code == 0
    assert "best code_accuracy" in capsys.readouterr().err
    state = json.loads((out / "state.json").read_text())
    assert state["config_name"] == "tiny"  # taken from the --vqgan run
    assert state["inputs"]["vqgan"]["run"] == str(runs / "vqgan")


def test_identity_teacher_option(tmp_path, tmp_path_factory, capsys, identity_weights):
    data = tiny_dataset(tmp_path_factory)
    runs = tiny_runs(tmp_path_factory)
    common = ["--data", str(data), "--steps", "2", "--log-every", "1", "--threads", "1"]
    assert main(["train", "swap", *common, "--run", str(tmp_path / "swap"), "--vqgan",
                 str(runs / "vqgan"), "--identity-teacher", str(identity_weights)]) == 0
    inputs = json.loads((tmp_path / "swap" / "state.json").read_text())["inputs"]
    assert inputs["identity"]["teacher"] == "mobilefacenet_128d"
    assert inputs["identity"]["file"] == str(identity_weights.resolve())
    # without a path the vqgan stage finds the network itself and adds the identity loss
    assert main(["train", "vqgan", *common, "--config", "tiny", "--run", str(tmp_path / "vq"),
                 "--identity-teacher"]) == 0
    log = [json.loads(x) for x in (tmp_path / "vq" / "log.jsonl").read_text().splitlines()]
    assert all("identity" in r for r in log if "loss" in r and "val" not in r)
    code = main(["train", "swap", *common, "--run", str(tmp_path / "both"), "--vqgan",
                 str(runs / "vqgan"), "--identity", str(runs / "identity"),
                 "--identity-teacher"])
    assert code == 2 and "not both" in capsys.readouterr().err


def _without_torch(args: list[str]) -> subprocess.CompletedProcess:
    # a finder that refuses torch, as on an install without the training extras
    code = ("import sys\n"
            "class NoTorch:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('torch', 'safetensors'):\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, NoTorch())\n"
            "from swaptalk_desktop.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)


def test_without_torch_training_says_how_to_install(tmp_path, tmp_path_factory):
    result = _without_torch(["train", "vqgan", "--data", str(tmp_path), "--run",
                             str(tmp_path / "r")])
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {EXTRAS_MESSAGE}"
    result = _without_torch(["adapt", "--video", str(tmp_path / "x.mp4")])
    assert result.returncode == 2 and EXTRAS_MESSAGE in result.stderr
    # preparing data needs no torch
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset(tmp_path_factory), data)
    result = _without_torch(["train", "prepare", "--videos",
                             str(synthetic_videos(tmp_path_factory)), "--out", str(data),
                             "--crop-size", "64"])
    assert result.returncode == 0, result.stderr


def test_data_pack_trains_the_code_stages_without_pixels(tmp_path, tmp_path_factory, capsys):
    """`train encode --pack` writes codes, mel and audio times; expert and sync then train on
    the pack alone (no crops in it), which is what scripts/gpu_train.sh carries to a GPU."""
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset(tmp_path_factory), data)
    runs = tiny_runs(tmp_path_factory)
    pack = tmp_path / "pack"
    assert main(["train", "encode", "--data", str(data), "--vqgan", str(runs / "vqgan"),
                 "--pack", str(pack), "--json-progress"]) == 0
    done = _json_lines(capsys.readouterr().out)[-1]
    assert done["pack"]["bytes"]["codes"] > 0 and done["pack"]["bytes"]["mel"] > 0
    assert not (pack / "crops").exists() and (pack / "vqgan" / "best.safetensors").is_file()
    meta = json.loads((pack / "pack.json").read_text())
    assert meta["fingerprint"] == done["fingerprint"] and meta["clips"] == 2
    for stage, extra in (("expert", []), ("sync", ["--expert", str(tmp_path / "expert")])):
        assert main(["train", stage, "--data", str(pack), "--run", str(tmp_path / stage),
                     "--vqgan", str(pack / "vqgan"), "--steps", "3", "--threads", "1",
                     *extra]) == 0
        assert "encoding" not in capsys.readouterr().err  # nothing had to be encoded again
