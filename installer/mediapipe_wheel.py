"""Rewrite mediapipe 0.10.21's wheel metadata so that pip can install it beside our pins.

mediapipe 0.10.21 is the last release with the ``mediapipe.solutions`` face detector and face
mesh (and their .tflite models) that ``faces/landmarker.py`` uses; 0.10.30 and later drop both.
Its metadata asks for ``numpy<2``, ``protobuf<5``, ``opencv-contrib-python``, jax, jaxlib,
sentencepiece and sounddevice. The face models need none of these limits: they run with numpy 2,
protobuf 6 and the headless OpenCV that we pin, and a second OpenCV wheel would overwrite the
first one's ``cv2``. No published wheel fixes this (``mediapipe-numpy2`` drops only the numpy cap).

This script takes the wheel from PyPI unchanged (pip download, so pip's cache and hash checks
apply), keeps every file byte for byte and rewrites only ``METADATA`` and ``RECORD``: the
version gets the local label ``+swaptalk1`` (``mediapipe==0.10.21`` still matches it), the
requirements become the ones the face models import. The result is resolver-clean:
``pip install <this wheel> swaptalk-desktop`` and ``pip check`` have no conflicts.

    python installer/mediapipe_wheel.py OUT_DIR      # prints the path of the wheel it wrote
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

UPSTREAM = "0.10.21"
LOCAL = f"{UPSTREAM}+swaptalk1"
# What `import mediapipe` and mp.solutions.face_detection / face_mesh import (measured with
# sys.modules), with the protobuf range we run with: 6.x works, 7.x breaks its generated code.
REQUIRES = (
    "absl-py",
    "attrs>=19.1.0",
    "flatbuffers>=2.0",
    "matplotlib",
    "numpy",
    "opencv-python-headless",
    "protobuf>=4.25.3,<7",
)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _metadata(original: str) -> str:
    head, _, body = original.partition("\n\n")
    lines = [line for line in head.splitlines() if not line.startswith("Requires-Dist:")]
    lines = [f"Version: {LOCAL}" if line.startswith("Version:") else line for line in lines]
    lines += [f"Requires-Dist: {r}" for r in REQUIRES]
    note = ("Repackaged by SwapTalk Desktop (installer/mediapipe_wheel.py): the files of "
            f"mediapipe {UPSTREAM} unchanged, its requirements replaced by those its face "
            "detector and face mesh import.\n\n")
    return "\n".join(lines) + "\n\n" + note + body


def repack(upstream: Path, out_dir: Path) -> Path:
    old_info = f"mediapipe-{UPSTREAM}.dist-info/"
    new_info = f"mediapipe-{LOCAL}.dist-info/"
    target = out_dir / upstream.name.replace(f"mediapipe-{UPSTREAM}-", f"mediapipe-{LOCAL}-")
    if target == upstream:
        raise SystemExit(f"unexpected wheel name {upstream.name}")
    partial = target.with_name(target.name + ".partial")
    records: list[str] = []
    with zipfile.ZipFile(upstream) as src, \
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            name = info.filename
            if name == old_info + "RECORD":
                continue
            data = src.read(info)
            if name.startswith(old_info):
                name = new_info + name[len(old_info):]
                if name == new_info + "METADATA":
                    data = _metadata(data.decode("utf-8")).encode("utf-8")
            out = zipfile.ZipInfo(name, date_time=info.date_time)
            out.external_attr = info.external_attr
            out.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(out, data, compresslevel=1)
            if not name.endswith("/"):
                records.append(f"{name},{_record_hash(data)},{len(data)}")
        records.append(f"{new_info}RECORD,,")
        dst.writestr(new_info + "RECORD", "\n".join(records) + "\n")
    partial.replace(target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(out_dir.glob(f"mediapipe-{LOCAL}-*.whl"))
    if existing:
        print(existing[-1])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", tmp, f"mediapipe=={UPSTREAM}"], check=True)
        upstream = next(Path(tmp).glob(f"mediapipe-{UPSTREAM}-*.whl"))
        print(repack(upstream, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
