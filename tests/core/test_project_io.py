"""Project files: round trips, relative paths, missing media, relinking, errors, migrations."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from swaptalk_desktop.core import project_format
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.hashing import content_fingerprint
from swaptalk_desktop.core.project import ClipState, MediaItem, Project, RangeEdit
from swaptalk_desktop.core.project_io import (
    FormatError,
    NewerFormatError,
    backup_path,
    find_moved_media,
    load_backup,
    load_project,
    relink,
    save_project,
)


def write_media(folder: Path) -> dict[str, Path]:
    (folder / "media").mkdir(parents=True)
    files = {"v": folder / "media" / "take3.mp4", "p": folder / "media" / "actor.jpg",
             "a": folder / "media" / "line07.wav"}
    for key, path in files.items():
        path.write_bytes(f"{key} contents ".encode() * 50)
    return files


def make_project(files: dict[str, Path]) -> Project:
    project = Project(settings={"model_set": "tint", "provider": "cpu"},
                      pending_jobs=[{"kind": "process", "jobs": [{"start": 1}]}])
    project.media["v"] = MediaItem.from_file(files["v"], "video", {
        "frames": 240, "fps": "24000/1001", "has_audio": True, "width": 640, "height": 480},
        id="v")
    project.media["p"] = MediaItem.from_file(files["p"], "photo", {"width": 512}, id="p")
    project.media["a"] = MediaItem.from_file(files["a"], "audio", {"duration_s": 3.5}, id="a")
    project.clips["v"] = ClipState(media_id="v", mark_in=10, mark_out=90, playhead=57, edits=[
        RangeEdit(id="e1", start=12, stop=40, photo_id="p", audio_id="a", audio_offset=-0.25,
                  sync=False, feather=6.5, strength=0.75, color_match=False, label="Línea 7 ✓"),
        RangeEdit(id="e2", start=100, stop=130, audio_id="v")])
    project.current_clip = "v"
    return project


@pytest.fixture
def saved(tmp_path) -> tuple[Project, Path]:
    folder = tmp_path / "film"
    project = make_project(write_media(folder))
    path = folder / "film.swaptalk"
    save_project(project, path)
    return project, path


def with_paths(project: Project, old: Path, new: Path) -> Project:
    expected = project.copy()
    for item in expected.media.values():
        item.path = new / item.path.relative_to(old)
    return expected


def test_round_trip_is_equal(saved):
    project, path = saved
    loaded = load_project(path)
    assert loaded == project
    assert not any(item.missing for item in loaded.media.values())


def test_file_layout(saved):
    _, path = saved
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "swaptalk-desktop-project" and data["schema_version"] == 2
    video = data["media"][0]
    assert video["path"] == "media/take3.mp4"
    assert video["absolute_path"] == str(path.parent / "media" / "take3.mp4")
    assert video["fingerprint"] == content_fingerprint(path.parent / "media" / "take3.mp4")
    assert data["clips"][0]["edits"][0]["label"] == "Línea 7 ✓"
    assert sorted(p.name for p in path.parent.iterdir()) == ["film.swaptalk", "media"]


def test_folder_moved_with_its_media_uses_relative_paths(saved, tmp_path):
    project, path = saved
    moved = tmp_path / "archive" / "film-2024"
    moved.parent.mkdir()
    shutil.move(path.parent, moved)
    loaded = load_project(moved / "film.swaptalk")
    assert loaded == with_paths(project, path.parent, moved)
    assert loaded.media["v"].path == moved / "media" / "take3.mp4"


def test_project_file_moved_alone_falls_back_to_absolute_paths(saved, tmp_path):
    project, path = saved
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = load_project(shutil.move(path, elsewhere / path.name))
    assert loaded == project


def test_fingerprint_decides_when_both_paths_exist(saved, tmp_path):
    project, path = saved
    other = tmp_path / "other"
    write_media(other)
    (other / "media" / "take3.mp4").write_bytes(b"a different take")
    loaded = load_project(shutil.copy(path, other / path.name))
    # the relative path finds a different file; the absolute one is the project's own
    assert loaded.media["v"].path == project.media["v"].path
    assert loaded.media["p"].path == other / "media" / "actor.jpg"  # same contents: relative


def test_missing_media_is_flagged_and_relinked(saved, tmp_path):
    project, path = saved
    new_home = tmp_path / "new home"
    new_home.mkdir()
    moved_video = shutil.move(path.parent / "media" / "take3.mp4", new_home / "renamed.mp4")
    loaded = load_project(path)
    assert [m.id for m in loaded.media.values() if m.missing] == ["v"]
    assert loaded.media["v"].path == project.media["v"].path  # the place the user remembers

    decoy = new_home / "take3.mp4"  # same name, other contents: not the file
    decoy.write_bytes(b"not it")
    assert find_moved_media(loaded, tmp_path) == {"v": Path(moved_video)}
    with pytest.raises(InputError, match=r"take3.mp4 is not the same file as take3.mp4"):
        relink(loaded, "v", decoy)
    assert loaded.media["v"].missing
    relink(loaded, "v", moved_video)
    assert not loaded.media["v"].missing
    save_project(loaded, path)
    again = load_project(path)
    assert again.media["v"].path == Path(moved_video) and not again.media["v"].missing
    assert json.loads(path.read_text())["media"][0]["path"] == "../new home/renamed.mp4"


def test_forced_relink_takes_the_new_fingerprint(saved, tmp_path):
    project, _ = saved
    replacement = tmp_path / "reexport.mp4"
    replacement.write_bytes(b"re-exported")
    relink(project, "v", replacement, force=True)
    assert project.media["v"].fingerprint == content_fingerprint(replacement)
    with pytest.raises(InputError, match="not found"):
        relink(project, "v", tmp_path / "nothing.mp4")


def test_find_moved_media_ignores_items_that_are_present(saved, tmp_path):
    project, path = saved
    assert find_moved_media(load_project(path), tmp_path) == {}


def test_failed_save_keeps_the_previous_file(saved):
    project, path = saved
    before = path.read_bytes()
    project.media["v"].summary["probe"] = object()
    with pytest.raises(TypeError):
        save_project(project, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["film.swaptalk", "media"]


def test_probe_values_are_stored_as_json(saved):
    project, path = saved
    project.media["v"].summary["fps"] = Fraction(30000, 1001)
    save_project(project, path)
    assert load_project(path).media["v"].summary["fps"] == "30000/1001"


@pytest.mark.parametrize(("content", "match"), [
    (b"\xff\xfe\x00binary", r"^film.swaptalk is not a SwapTalk project \(not a text file\)$"),
    (b"{ nope", r"^film.swaptalk is not a SwapTalk project \(not valid JSON: Expecting "
                r"property name enclosed in double quotes at line 1, column 3\)$"),
    (b'{"hello": 1}', r"^film.swaptalk is not a SwapTalk project \(no SwapTalk format marker\)"),
    (b'{"format": "swaptalk-desktop-project", "schema_version": 3}',
     r"^film.swaptalk was made by a newer SwapTalk Desktop \(schema 3; this version reads up "
     r"to 2\); update SwapTalk Desktop to open it$"),
    (b'{"format": "swaptalk-desktop-project", "schema_version": 1, "clips": []}',
     r"^film.swaptalk is not a SwapTalk project \(the file lacks 'media'\)$"),
])
def test_unreadable_files_are_named(tmp_path, content, match):
    path = tmp_path / "film.swaptalk"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=match):
        load_project(path)


def test_newer_files_name_both_schema_versions(tmp_path):
    path = tmp_path / "film.swaptalk"
    path.write_text(json.dumps({"format": "swaptalk-desktop-project", "schema_version": 7}))
    with pytest.raises(NewerFormatError) as info:
        load_project(path)
    assert (info.value.found, info.value.supported) == (7, 2)
    assert isinstance(info.value, FormatError)


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_a_cut_off_file_says_where_it_ends(saved, cut):
    _, path = saved
    text = path.read_text()
    text = text[:int(len(text) * cut)]
    path.write_text(text)
    last = len(text.rstrip().splitlines())
    with pytest.raises(FormatError, match=rf"^film.swaptalk is damaged \(not valid JSON: the file "
                                          rf"ends early, at line {last}; it was cut off"):
        load_project(path)


def test_a_broken_project_is_damaged_with_line_and_column(saved):
    _, path = saved
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rstrip(",")  # a comma lost in a hand edit
    path.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=r"^film.swaptalk is damaged \(not valid JSON: "
                                          r"Expecting ',' delimiter at line 4, column 3\)$"):
        load_project(path)


def test_each_save_keeps_the_one_before_as_backup(saved):
    project, path = saved
    bak = backup_path(path)
    assert bak == path.with_name("film.swaptalk.bak") and not bak.exists()
    first = path.read_bytes()
    save_project(project, path)  # the same document again: the backup is not touched
    assert not bak.exists()
    project.clips["v"].edits[0].label = "second save"
    save_project(project, path)
    assert bak.read_bytes() == first
    second = path.read_bytes()
    assert load_backup(path).clips["v"].edits[0].label == "Línea 7 ✓"
    assert load_backup(path).media["v"].path == project.media["v"].path  # same folder rules
    project.clips["v"].edits[0].label = "third save"
    save_project(project, path)
    assert bak.read_bytes() == second
    assert sorted(p.name for p in path.parent.iterdir()) == ["film.swaptalk", "film.swaptalk.bak",
                                                            "media"]  # no partial files left


def test_a_damaged_file_never_replaces_the_backup(saved):
    project, path = saved
    project.clips["v"].edits[0].label = "second save"
    save_project(project, path)
    good = backup_path(path).read_bytes()
    path.write_bytes(path.read_bytes()[:200])  # damaged after the save
    with pytest.raises(FormatError, match="ends early"):
        load_project(path)
    project.clips["v"].edits[0].label = "third save"
    save_project(project, path)
    assert backup_path(path).read_bytes() == good
    assert load_project(path).clips["v"].edits[0].label == "third save"


def test_a_failed_save_changes_neither_file(saved):
    project, path = saved
    project.clips["v"].edits[0].label = "second save"
    save_project(project, path)
    before, bak = path.read_bytes(), backup_path(path).read_bytes()
    project.media["v"].summary["probe"] = object()
    with pytest.raises(TypeError):
        save_project(project, path)
    assert (path.read_bytes(), backup_path(path).read_bytes()) == (before, bak)


def test_damaged_documents_are_refused(saved):
    _, path = saved
    data = json.loads(path.read_text())
    data["clips"][0]["edits"][1]["start"] = 30  # now overlaps e1
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"^film.swaptalk is damaged \(the document: edit would "
                                          r"overlap the edit \(frames 30-130\)\); restore it "
                                          r"from a backup$"):
        load_project(path)
    data["clips"][0]["edits"][1]["start"] = 100
    data["clips"][0]["edits"][0]["photo_id"] = "a"
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"damaged \(the document: line07.wav is not a photo"):
        load_project(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_project(tmp_path / "none.swaptalk")
    with pytest.raises(InputError, match="is a folder"):
        load_project(tmp_path)


def v0_document(folder: Path) -> dict:
    """A hand-made schema-0 file: media as a mapping with absolute paths, edits as ranges."""
    return {"format": "swaptalk-desktop-project", "schema_version": 0,
            "media": {"v": {"kind": "video", "file": str(folder / "media" / "take3.mp4"),
                            "frames": 240}},
            "clips": [{"media_id": "v", "edits": [{"id": "e1", "range": [5, 25]}]}]}


def upgrade_v0(data: dict) -> dict:
    media = [{"id": key, "kind": m["kind"], "path": None, "absolute_path": m["file"],
              "fingerprint": "", "summary": {"frames": m["frames"]}}
             for key, m in data["media"].items()]
    clips = [{"media_id": c["media_id"], "edits": [
        {"id": e["id"], "start": e["range"][0], "stop": e["range"][1]} for e in c["edits"]]}
        for c in data["clips"]]
    return {**data, "schema_version": 1, "media": media, "clips": clips}


def test_older_schemas_are_migrated_step_by_step(tmp_path, monkeypatch):
    write_media(tmp_path)
    path = tmp_path / "old.swaptalk"
    path.write_text(json.dumps(v0_document(tmp_path)))
    with pytest.raises(FormatError, match=r"old.swaptalk uses schema 0, which this version "
                                          r"cannot upgrade"):
        load_project(path)
    calls = []
    monkeypatch.setitem(project_format.MIGRATIONS, 0,
                        lambda d: calls.append(d["schema_version"]) or upgrade_v0(d))
    project = load_project(path)
    assert calls == [0]
    assert project.edit("v", "e1").start == 5 and project.edit("v", "e1").stop == 25
    assert project.media["v"].path == tmp_path / "media" / "take3.mp4"
    assert project.schema_version == 2  # then 1 -> 2 by the real step (the sequence)
    assert [(s.media_id, s.source_in, s.source_out) for s in project.sequence] == [("v", 0, None)]
    save_project(project, path)  # saving writes the current schema
    assert json.loads(path.read_text())["schema_version"] == 2
    assert load_project(path) == project
