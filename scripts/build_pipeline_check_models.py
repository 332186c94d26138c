"""Regenerate models/pipeline-check: fixed graphs without learned weights.

They let a fresh install check the whole path (manifest, sha256, ONNX Runtime, tracking,
paste-back, encode) without the real SwapTalk weights, and are clearly named as such.
Run: .venv/bin/python scripts/build_pipeline_check_models.py
"""

from pathlib import Path

from swaptalk_desktop.eval.synthetic_models import build_synthetic_set

FOLDER = Path(__file__).resolve().parents[1] / "models" / "pipeline-check"

if __name__ == "__main__":
    for old in FOLDER.glob("*"):
        old.unlink()
    build_synthetic_set(
        FOLDER, set_id="pipeline-check", swap_mode="source", sync_mode="mel", make_default=False,
        description="installation check, no learned weights: the swap pastes the identity "
                    "photo's aligned face, the sync brightens the mouth with loudness")
    print(f"wrote {FOLDER}")
