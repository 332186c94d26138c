"""Random command sequences through the editor's undo stack against an independently kept
model.

The commands go where the editor sends them: ``ProjectController.push`` checks each one and
wraps it in a ``QtCommand`` on the controller's QUndoStack (ui/project_controller.py), so Qt's
own stack rules (merging by id and ``mergeWith``, the clean index, the redo tail) are the ones
under test. The model below re-implements the document rules in the plainest way (lists,
brute-force overlap checks) and the stack's rules (merge with the top command unless it is the
saved state, truncate the redo tail). After every step the document must equal the model; at
the end, undoing everything must pass through every recorded state in reverse, and redoing
through them again.
"""

from __future__ import annotations

import math
from dataclasses import astuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swaptalk_desktop.core.commands import (
    AddClip,
    AddEdit,
    AddMedia,
    MoveEdit,
    RemoveEdit,
    RemoveMedia,
    SetEditField,
    SetMarks,
    TrimEdit,
)
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import ClipState, MediaItem, Project, RangeEdit
from swaptalk_desktop.core.project_io import load_project, save_project
from swaptalk_desktop.ui.project_controller import ProjectController

# id: (kind, frames, has_audio)
MEDIA = {"v": ("video", 60, True), "w": ("video", 40, False), "p": ("photo", None, None),
         "a": ("audio", None, None), "x": ("photo", None, None)}
CLIP_IDS = ["v", "w", "nope"]
INITIAL_EDITS = [("e0a", 5, 15, "p", "a", 0.5, True, True, 12.0, 1.0, True, "Line 7", "warp"),
                 ("e0b", 30, 42, None, "v", -0.25, True, False, 4.0, 0.5, False, "", "latent")]
FIELD_ORDER = ("id", "start", "stop", "photo_id", "audio_id", "audio_offset", "swap", "sync",
               "feather", "strength", "color_match", "label", "swap_method")


def media_item(media_id: str) -> MediaItem:
    kind, frames, has_audio = MEDIA[media_id]
    summary = {} if frames is None else {"frames": frames, "has_audio": has_audio}
    return MediaItem(id=media_id, kind=kind, path=f"/media/{media_id}.bin", summary=summary)


def initial_project() -> Project:
    project = Project()
    for media_id in ("v", "w", "p", "a"):
        project.media[media_id] = media_item(media_id)
    project.clips["v"] = ClipState(media_id="v", edits=[RangeEdit(*row) for row in INITIAL_EDITS])
    project.current_clip = "v"
    return project


class Model:
    """The document as plain data, changed only by the forward rules of each command."""

    def __init__(self) -> None:
        self.media = ["v", "w", "p", "a"]
        self.clips: dict[str, dict] = {
            "v": {"edits": {row[0]: row for row in INITIAL_EDITS}, "in": None, "out": None}}
        self.current: str | None = "v"

    def copy(self) -> Model:
        other = Model()
        other.media = list(self.media)
        other.clips = {cid: {"edits": dict(c["edits"]), "in": c["in"], "out": c["out"]}
                       for cid, c in self.clips.items()}
        other.current = self.current
        return other

    def state(self) -> tuple:
        clips = tuple((cid, c["in"], c["out"],
                       tuple(sorted(c["edits"].values(), key=lambda e: e[1])))
                      for cid, c in self.clips.items())
        return tuple(self.media), clips, self.current

    # --- rules ---------------------------------------------------------------------------------
    def value_ok(self, field: str, value) -> bool:
        if field == "photo_id":
            return value is None or (value in self.media and MEDIA[value][0] == "photo")
        if field == "audio_id":
            return value is None or (value in self.media and (
                MEDIA[value][0] == "audio" or (MEDIA[value][0] == "video" and MEDIA[value][2])))
        if field in ("swap", "sync", "color_match"):
            return type(value) is bool
        if field == "label":
            return isinstance(value, str) and "\n" not in value
        if field == "swap_method":
            return value in ("warp", "latent")
        if type(value) not in (int, float) or not math.isfinite(value):
            return False
        if field == "feather":
            return 0 <= value <= 128
        if field == "strength":
            return 0 <= value <= 1
        return True

    def range_ok(self, clip_id: str, start: int, stop: int, ignore: str | None) -> bool:
        frames = MEDIA[clip_id][1]
        if not (0 <= start < stop <= frames):
            return False
        taken = {f for eid, e in self.clips[clip_id]["edits"].items() if eid != ignore
                 for f in range(e[1], e[2])}
        return not taken.intersection(range(start, stop))


def stored(field: str, value):
    return float(value) if field in ("audio_offset", "feather", "strength") else value


# Every choice is drawn as a plain integer and decoded here, so that Hypothesis (which prefers
# small integers) mostly makes sensible steps, and shrinks a failure to a short, readable case.
INVALID = {
    "photo_id": ["a", "v", "gone"],
    "audio_id": ["w", "p", "gone"],
    "audio_offset": [math.nan, math.inf, True, "1"],
    "swap": [1, None], "sync": [0, "yes"], "color_match": [1],
    "feather": [-0.5, 128.5, math.nan],
    "strength": [-0.01, 1.01],
    "label": ["two\nlines", 7],
    "swap_method": ["paint", None],
}


def valid_value(field: str, n: int):
    if field == "photo_id":
        return ["p", None, "x"][n % 3]  # "x" is valid only while imported
    if field == "audio_id":
        return [None, "a", "v"][n % 3]
    if field in ("swap", "sync", "color_match"):
        return n % 2 == 0
    if field == "audio_offset":
        return (n % 101) / 10 - 5 if n % 3 else n % 5 - 2  # ints are stored as floats
    if field == "feather":
        return (n % 1281) / 10 if n % 3 else n % 21
    if field == "strength":
        return (n % 101) / 100
    if field == "swap_method":
        return ("warp", "latent")[n % 2]
    return ["", "Line 7", "Take 3"][n % 3]


def field_value(field: str, n: int):
    """Seven in eight values are valid."""
    if n % 8 == 7:
        return INVALID[field][n // 8 % len(INVALID[field])]
    return valid_value(field, n // 8)


def clip_index(n: int) -> int:
    return 0 if n < 7 else 1 if n < 9 else 2  # mostly the main clip


def add_op(clip_n, start_n, length_n, values, invalid, dup):
    fields = {f: valid_value(f, n) for f, n in zip(FIELD_ORDER[3:], values, strict=True)}
    if invalid is not None:
        field = FIELD_ORDER[3 + invalid]
        fields[field] = INVALID[field][values[invalid] % len(INVALID[field])]
    start = (start_n * 37 + 20) % 65 - 2  # -2..62, spread over the clip
    length = length_n + 1 if length_n < 14 else 13 - length_n  # 1..14, then 0 and -1
    return ("add", clip_index(clip_n), start, length, fields, dup == 3)


n_st = st.integers(0, 10_000)
clip_st = st.integers(0, 9)
pick_st = st.integers(0, 3)
drag_st = st.sampled_from([None, "d1", "d2"])
mark_st = st.one_of(st.none(), st.integers(-3, 65))  # clips have 60 and 40 frames
add_st = st.builds(add_op, clip_st, st.integers(0, 64), st.integers(0, 15),
                   st.tuples(*[n_st] * 10), st.one_of(st.none(), st.integers(0, 9)),
                   st.integers(0, 3))
field_st = st.builds(lambda c, p, f, n, d: ("field", clip_index(c), p, f, field_value(f, n), d),
                     clip_st, pick_st, st.sampled_from(FIELD_ORDER[3:]), n_st, drag_st)
move_st = st.builds(lambda c, p, d, g: ("move", clip_index(c), p, d, g),
                    clip_st, pick_st, st.integers(-60, 60), drag_st)
trim_st = st.builds(lambda c, p, a, b, g: ("trim", clip_index(c), p, a, b, g),
                    clip_st, pick_st, st.integers(-12, 12), st.integers(-12, 12), drag_st)


def drag_op(kind, c, pick, drag, field, steps):
    """One drag: several small steps of one kind on one target under one drag id."""
    c = clip_index(c)
    if kind == "move":
        subs = [("move", c, pick, n % 9 - 4, drag) for n in steps]
    elif kind == "trim":
        subs = [("trim", c, pick, n % 7 - 3, n // 7 % 7 - 3, drag) for n in steps]
    else:
        subs = [("field", c, pick, field, field_value(field, n), drag) for n in steps]
    return ("drag", subs)


drag_burst_st = st.builds(drag_op, st.sampled_from(["move", "trim", "field"]), clip_st, pick_st,
                          st.sampled_from(["d1", "d2"]),
                          st.sampled_from(["feather", "strength", "audio_offset"]),
                          st.lists(n_st, min_size=2, max_size=6))

ops_st = st.one_of(
    add_st, add_st, add_st,
    st.tuples(st.just("remove"), clip_st.map(clip_index), pick_st),
    move_st, trim_st, field_st, field_st, drag_burst_st, drag_burst_st,
    st.builds(lambda c, i, o, d: ("marks", clip_index(c), i, o, d),
              clip_st, mark_st, mark_st, drag_st),
    st.tuples(st.just("add_media"), st.sampled_from(list(MEDIA))),
    st.tuples(st.just("remove_media"), st.sampled_from(["x", "p", "a", "w", "v"])),
    st.tuples(st.just("add_clip"), st.sampled_from(list(MEDIA))),
    st.tuples(st.just("undo")), st.tuples(st.just("redo")), st.tuples(st.just("save")),
)


def document_state(project: Project) -> tuple:
    clips = tuple((cid, c.mark_in, c.mark_out, tuple(astuple(e) for e in c.edits))
                  for cid, c in project.clips.items())
    return tuple(project.media), clips, project.current_clip


class EditorStack:
    """The controller's QUndoStack as the test drives it: a push that the controller refuses
    raises its one line as an InputError, and a push says whether it merged."""

    def __init__(self, project: Project):
        self.controller = ProjectController(autosave_s=3600)
        self.controller.open_imported(project)  # a document of its own, an empty stack
        self.qt = self.controller.undo_stack
        self.errors: list[str] = []
        self.controller.error.connect(self.errors.append)

    def push(self, command) -> bool:
        index = self.qt.index()
        if not self.controller.push(command):
            raise InputError(self.errors[-1])
        return self.qt.index() == index  # a new step moves the index on, a merge does not

    def undo(self) -> None:
        self.qt.undo()

    def redo(self) -> None:
        self.qt.redo()

    def set_clean(self) -> None:
        self.qt.setClean()

    def is_clean(self) -> bool:
        return self.qt.isClean()

    def undo_text(self) -> str:
        return self.qt.undoText()

    def can_undo(self) -> bool:
        return self.qt.canUndo()

    def can_redo(self) -> bool:
        return self.qt.canRedo()

    @property
    def index(self) -> int:
        return self.qt.index()

    @property
    def count(self) -> int:
        return self.qt.count()

    def close(self) -> None:
        self.controller.shutdown()
        self.controller.deleteLater()


class Runner:
    def __init__(self) -> None:
        self.project = initial_project()
        self.stack = EditorStack(self.project)
        self.model = Model()
        self.history = [self.model.copy()]  # history[i]: state after i commands
        self.keys: list[tuple | None] = []  # keys[i]: merge key of command i + 1
        self.index = 0
        self.clean: int | None = 0
        self.serial = 0

    def edit_id(self, clip_id: str, pick: int) -> str:
        if clip_id not in self.model.clips:
            return "missing"
        ids = sorted(self.model.clips[clip_id]["edits"])
        return ids[pick] if pick < len(ids) else "missing"

    def plan(self, op: tuple):
        """(command, whether the model says it is valid, forward change, merge key)."""
        m = self.model
        kind = op[0]
        if kind == "add":
            _, ci, start, length, fields, dup = op
            clip_id = CLIP_IDS[ci]
            self.serial += 1
            eid = f"e{self.serial}"
            if dup and clip_id in m.clips and m.clips[clip_id]["edits"]:
                eid = sorted(m.clips[clip_id]["edits"])[0]
            edit = RangeEdit(id=eid, start=start, stop=start + length, **fields)
            ok = clip_id in m.clips and eid not in m.clips[clip_id]["edits"] and \
                m.range_ok(clip_id, start, start + length, None) and \
                all(m.value_ok(f, v) for f, v in fields.items())
            row = (eid, start, start + length) + tuple(stored(f, fields[f])
                                                       for f in FIELD_ORDER[3:])

            def apply():
                m.clips[clip_id]["edits"][eid] = row
            return AddEdit(clip_id, edit), ok, apply, None
        if kind in ("remove", "move", "trim", "field"):
            clip_id = CLIP_IDS[op[1]]
            eid = self.edit_id(clip_id, op[2])
            exists = eid != "missing"
            row = m.clips[clip_id]["edits"][eid] if exists else None
            if kind == "remove":
                def apply():
                    del m.clips[clip_id]["edits"][eid]
                return RemoveEdit(clip_id, eid), exists, apply, None
            if kind == "field":
                _, _, _, field, value, drag = op
                ok = exists and m.value_ok(field, value)
                col = FIELD_ORDER.index(field)

                def apply():
                    r = m.clips[clip_id]["edits"][eid]
                    m.clips[clip_id]["edits"][eid] = r[:col] + (stored(field, value),) + \
                        r[col + 1:]
                key = None if drag is None else ("field", clip_id, eid, field, drag)
                return SetEditField(clip_id, eid, field, value, drag), ok, apply, key
            # Positions are offsets from the edit's current range, so that small steps (as in
            # a drag) are common; a missing edit gets them as absolute frames.
            start, stop = (row[1], row[2]) if exists else (0, 0)
            if kind == "move":
                _, _, _, delta, drag = op
                new_start = start + delta
                new_stop = new_start + (stop - start) if exists else new_start + 1
                cmd = MoveEdit(clip_id, eid, new_start, drag)
            else:
                _, _, _, d_start, d_stop, drag = op
                new_start, new_stop = start + d_start, stop + d_stop
                cmd = TrimEdit(clip_id, eid, new_start, new_stop, drag)
            ok = exists and m.range_ok(clip_id, new_start, new_stop, eid)

            def apply():
                r = m.clips[clip_id]["edits"][eid]
                m.clips[clip_id]["edits"][eid] = (r[0], new_start, new_stop) + r[3:]
            key = None if drag is None else (kind, clip_id, eid, drag)
            return cmd, ok, apply, key
        if kind == "marks":
            _, ci, mark_in, mark_out, drag = op
            clip_id = CLIP_IDS[ci]
            frames = MEDIA[clip_id][1] if clip_id in MEDIA else 0
            ok = clip_id in m.clips and \
                (mark_in is None or 0 <= mark_in <= frames - 1) and \
                (mark_out is None or 1 <= mark_out <= frames) and \
                (mark_in is None or mark_out is None or mark_in < mark_out)

            def apply():
                m.clips[clip_id]["in"], m.clips[clip_id]["out"] = mark_in, mark_out
            key = None if drag is None else ("marks", clip_id, drag)
            return SetMarks(clip_id, mark_in, mark_out, drag), ok, apply, key
        media_id = op[1]
        if kind == "add_media":
            def apply():
                m.media.append(media_id)
            return AddMedia(media_item(media_id)), media_id not in m.media, apply, None
        if kind == "remove_media":
            used = any(media_id in (e[3], e[4]) for c in m.clips.values()
                       for e in c["edits"].values())
            busy = media_id in m.clips and bool(m.clips[media_id]["edits"])
            ok = media_id in m.media and not used and not busy

            def apply():
                m.media.remove(media_id)
                m.clips.pop(media_id, None)
                if m.current == media_id:
                    m.current = next(iter(m.clips), None)
            return RemoveMedia(media_id), ok, apply, None
        assert kind == "add_clip"
        ok = media_id in m.media and MEDIA[media_id][0] == "video" and media_id not in m.clips

        def apply():
            m.clips[media_id] = {"edits": {}, "in": None, "out": None}
            m.current = media_id
        return AddClip(media_id), ok, apply, None

    def step(self, op: tuple) -> None:
        kind = op[0]
        if kind == "undo":
            if self.index:
                self.index -= 1
            self.stack.undo()
            self.model = self.history[self.index].copy()
        elif kind == "redo":
            if self.index < len(self.history) - 1:
                self.index += 1
            self.stack.redo()
            self.model = self.history[self.index].copy()
        elif kind == "drag":
            for sub in op[1]:
                self.push(sub)
                self.check()
        elif kind == "save":
            self.stack.set_clean()
            self.clean = self.index
        else:
            self.push(op)
        self.check()

    def push(self, op: tuple) -> None:
        command, ok, apply, key = self.plan(op)
        before = document_state(self.project)
        if not ok:
            try:
                self.stack.push(command)
            except InputError as err:
                assert "\n" not in str(err) and str(err)
            else:
                raise AssertionError(f"{op} should have been refused")
            assert document_state(self.project) == before
            return
        apply()
        del self.history[self.index + 1:]
        del self.keys[self.index:]
        if self.clean is not None and self.clean > self.index:
            self.clean = None
        merges = key is not None and self.index > 0 and self.keys[self.index - 1] == key and \
            self.clean != self.index
        if merges:
            self.history[self.index] = self.model.copy()
        else:
            self.history.append(self.model.copy())
            self.keys.append(key)
            self.index += 1
        assert self.stack.push(command) == merges
        assert self.stack.undo_text()

    def check(self) -> None:
        assert document_state(self.project) == self.model.state()
        assert self.stack.index == self.index
        assert self.stack.count == len(self.history) - 1
        assert self.stack.is_clean() == (self.clean == self.index)
        for clip in self.project.clips.values():
            spans = [(e.start, e.stop) for e in clip.edits]
            assert spans == sorted(spans)
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops_st, min_size=15, max_size=60))
def test_random_command_sequences_undo_and_redo_through_every_state(qapp, tmp_path_factory,
                                                                     ops):
    run = Runner()
    try:
        check_sequence(run, ops, tmp_path_factory)
    finally:
        run.stack.close()


def check_sequence(run: Runner, ops: list, tmp_path_factory) -> None:
    for op in ops:
        run.step(op)
    # whatever state the edits reached survives a save and a load
    path = tmp_path_factory.getbasetemp() / "property.swaptalk"
    save_project(run.project, path)
    assert document_state(load_project(path)) == document_state(run.project)
    for i in range(run.index - 1, -1, -1):
        run.stack.undo()
        assert document_state(run.project) == run.history[i].state()
    assert not run.stack.can_undo()
    assert document_state(run.project) == document_state(initial_project())
    for i in range(1, len(run.history)):
        run.stack.redo()
        assert document_state(run.project) == run.history[i].state()
    assert not run.stack.can_redo()
