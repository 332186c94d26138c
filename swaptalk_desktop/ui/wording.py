"""How the editor words things that several views show: an edit's name and range, and the
engine's messages, which speak to the command line (``--face``, ``--overwrite``) and are
reworded here to name the editor's own controls."""

from __future__ import annotations

import re
from fractions import Fraction

from ..core.project import ClipState, RangeEdit
from ..core.timebase import format_range


def edit_name(clip: ClipState | None, edit: RangeEdit) -> str:
    """The edit's label, else its place on the timeline ("Edit 2"), as the timeline shows it."""
    if edit.label:
        return edit.label
    ids = [e.id for e in clip.edits] if clip is not None else []
    return f"Edit {ids.index(edit.id) + 1}" if edit.id in ids else "Edit"


def edit_range(edit: RangeEdit, fps: Fraction | float) -> str:
    return format_range(edit.start, edit.stop, fps)


# The engine's messages that tell a command-line user which flag to give, as the editor says
# them (the same checks, the editor's controls). Matched in order; the first that fits wins.
_REWORDED: list[tuple[re.Pattern, str]] = [
    (re.compile(r"already exists; pass --overwrite to replace it"),
     "already exists; tick 'Replace the file if it exists' in the export dialog or choose "
     "another name"),
    (re.compile(r"; adjust --audio-offset"),
     "; adjust the Dialogue offset in the inspector"),
    (re.compile(r"has no audio stream; give --audio with the new dialogue "
                r"\(and/or --face with a new identity\)"),
     "has no audio stream; choose Dialogue (and/or a Face photo) for the edit in the "
     "inspector"),
    (re.compile(r"nothing to change: give --face \(a new identity\) and/or --audio "
                r"\(new dialogue\)"),
     "nothing to change: choose a Face photo and/or Dialogue for the edit in the inspector"),
    (re.compile(r"a face swap needs an identity photo \(--face\)"),
     "a face swap needs a face photo: choose one under Face photo in the inspector, or untick "
     "Face swap"),
    (re.compile(r"has no audio stream to sync the lips to; give --audio with the new dialogue"),
     "has no audio stream to sync the lips to; choose Dialogue for the edit in the inspector, "
     "or untick Lip sync"),
    (re.compile(r", or pass --runs RUNS"),
     " (from the command line, `swaptalk adapt` can also start from training runs)"),
]
FLAG_CONTROLS = {
    "--face": "a Face photo (inspector)",
    "--audio-offset": "the Dialogue offset (inspector)",
    "--audio": "Dialogue (inspector)",
    "--overwrite": "'Replace the file if it exists' (export dialog)",
    "--output": "the export dialog's Output",
    "--start": "the in mark (I)",
    "--end": "the out mark (O)",
    "--strength": "Strength (inspector)",
    "--feather": "Feather (inspector)",
    "--no-swap": "Face swap (inspector)",
    "--no-sync": "Lip sync (inspector)",
    "--models-dir": "File ▸ Settings ▸ model folders",
    "--provider": "File ▸ Settings ▸ provider",
    "--model-set": "File ▸ Settings ▸ model set",
}
_FLAG = re.compile(r"(?<![\w/.-])(--[a-z][a-z0-9-]*)(?![\w-])")


def gui_wording(message: str) -> str:
    """An engine message as the editor shows it: flags of the command line become the names
    of the controls that do the same (the CLI prints the message as raised)."""
    text = str(message)
    for pattern, replacement in _REWORDED:
        text = pattern.sub(replacement, text)
    return _FLAG.sub(lambda m: FLAG_CONTROLS.get(m.group(1), m.group(1)), text)


def write_note(write: dict | None) -> str:
    """How an export was written, for the status line: a smart render's share, or why the
    whole clip had to be encoded (the same reason the sidecar records)."""
    if not write:
        return ""
    if write.get("mode") == "smart":
        encoded = write.get("frames_reencoded", 0)
        total = encoded + write.get("frames_copied", 0)
        return f" (smart render: {encoded} of {total} frames re-encoded)"
    if write.get("reason"):
        return f" (the whole clip was encoded: {write['reason']})"
    return ""
