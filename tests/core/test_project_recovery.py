"""Autosave, crash detection through the session lock, and the recent-projects list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import platformdirs
import pytest

from swaptalk_desktop.core import recovery
from swaptalk_desktop.core.project import ClipState, MediaItem, Project, RangeEdit
from swaptalk_desktop.core.project_io import (
    RecentProjects,
    SessionLock,
    autosave_path,
    discard_autosave,
    load_autosave,
    pending_recovery,
    recovery_for,
    write_autosave,
)


def small_project(folder: Path) -> Project:
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / "take.mp4"
    video.write_bytes(b"video")
    project = Project()
    project.media["v"] = MediaItem.from_file(video, "video", {"frames": 50}, id="v")
    project.clips["v"] = ClipState(media_id="v", edits=[RangeEdit(id="e", start=1, stop=9)])
    project.current_clip = "v"
    return project


def test_autosaves_live_in_the_user_data_folder(tmp_path):
    root = Path(platformdirs.user_data_dir("swaptalk-desktop")) / "autosave"
    first = autosave_path(tmp_path / "a" / "film.swaptalk")
    assert first.parent == root and first.name.startswith("film-")
    assert autosave_path(tmp_path / "a" / "film.swaptalk") == first
    assert autosave_path(tmp_path / "b" / "film.swaptalk") != first
    assert autosave_path(None).name == f"untitled-{os.getpid()}.swaptalk-autosave"


def test_autosave_round_trip_resolves_paths_against_the_project(tmp_path):
    project = small_project(tmp_path / "film")
    written = write_autosave(project, tmp_path / "film" / "film.swaptalk")
    assert load_autosave(written) == project
    data = json.loads(written.read_text())
    assert data["project"]["media"][0]["path"] == "take.mp4"
    assert data["autosave"]["pid"] == os.getpid()
    untitled = write_autosave(project, None)
    assert load_autosave(untitled) == project
    assert json.loads(untitled.read_text())["project"]["media"][0]["path"] is None


def test_own_autosaves_are_not_offered_and_a_clean_exit_removes_them(tmp_path):
    lock = SessionLock().acquire()
    written = write_autosave(small_project(tmp_path), None)
    assert pending_recovery() == []
    lock.release()
    assert not written.exists() and not lock.path.exists()


def run_session(tmp_path: Path, ending: str) -> subprocess.Popen:
    """Another app session that autosaves, says "ready", then ends as told."""
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from swaptalk_desktop.core import project_io
        from swaptalk_desktop.core.project import Project
        lock = project_io.SessionLock().acquire()
        project_io.write_autosave(Project(), Path({str(tmp_path / 'film.swaptalk')!r}))
        print("ready", flush=True)
        if {ending!r} == "crash":
            os._exit(1)
        if {ending!r} == "clean":
            lock.release()
            sys.exit(0)
        sys.stdin.readline()  # "alive": run until told
        lock.release()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_crashed_session_is_offered_for_recovery(tmp_path):
    run_session(tmp_path, "crash").wait(timeout=60)
    found = pending_recovery()
    assert len(found) == 1
    assert found[0].project_path == tmp_path / "film.swaptalk"
    assert found[0].load() == Project()
    SessionLock().acquire()  # starting the app tidies the dead session's lock
    assert [p.name for p in recovery.sessions_dir().iterdir()] == [f"{os.getpid()}.lock"]
    assert pending_recovery() == found  # its autosave stays until the user decides
    found[0].discard()
    assert pending_recovery() == []


def test_a_running_session_is_left_alone_until_it_dies(tmp_path):
    proc = run_session(tmp_path, "alive")
    try:
        assert pending_recovery() == []
        proc.kill()
        proc.wait(timeout=60)
        assert [c.project_path for c in pending_recovery()] == [tmp_path / "film.swaptalk"]
    finally:
        proc.kill()


def test_a_clean_exit_leaves_nothing_to_recover(tmp_path):
    proc = run_session(tmp_path, "clean")
    assert proc.wait(timeout=60) == 0
    assert pending_recovery() == []
    assert not any(recovery.autosave_dir().iterdir())


@pytest.mark.skipif(recovery.process_start(os.getpid()) is None,
                    reason="no process start times on this platform")
def test_a_reused_process_id_does_not_hide_a_crash(tmp_path):
    SessionLock().acquire()
    written = write_autosave(Project(), tmp_path / "film.swaptalk")
    data = json.loads(written.read_text())
    data["autosave"]["process_start"] = "1"  # same pid, earlier process
    written.write_text(json.dumps(data))
    assert [c.autosave_path for c in pending_recovery()] == [written]


def test_newest_first_and_unreadable_autosaves_skipped(tmp_path):
    run_session(tmp_path / "one", "crash").wait(timeout=60)
    run_session(tmp_path / "two", "crash").wait(timeout=60)
    (recovery.autosave_dir() / "junk.swaptalk-autosave").write_text("{")
    found = pending_recovery()
    assert [c.project_path.parent.name for c in found] == ["two", "one"]
    discard_autosave(found[0].autosave_path)
    assert len(pending_recovery()) == 1


def test_recovery_for_one_project_path(tmp_path):
    run_session(tmp_path / "one", "crash").wait(timeout=60)
    run_session(tmp_path / "two", "crash").wait(timeout=60)
    found = recovery_for(tmp_path / "one" / ".." / "one" / "film.swaptalk")
    assert [c.project_path for c in found] == [tmp_path / "one" / "film.swaptalk"]
    assert recovery_for(tmp_path / "three" / "film.swaptalk") == []
    write_autosave(Project(), None)  # untitled: never a file's recovery
    assert len(recovery_for(tmp_path / "two" / "film.swaptalk")) == 1


def test_recent_projects(tmp_path):
    recent = RecentProjects()
    assert recent.path == Path(platformdirs.user_config_dir("swaptalk-desktop")) / "recent.json"
    assert recent.paths() == []
    for i in range(12):
        recent.add(tmp_path / f"p{i}.swaptalk")
    recent.add(tmp_path / "p5.swaptalk")
    paths = RecentProjects().paths()  # another window reads the same list
    assert len(paths) == 10
    assert paths[:3] == [tmp_path / "p5.swaptalk", tmp_path / "p11.swaptalk",
                         tmp_path / "p10.swaptalk"]
    assert paths.count(tmp_path / "p5.swaptalk") == 1
    recent.remove(tmp_path / "p11.swaptalk")
    assert tmp_path / "p11.swaptalk" not in recent.paths()
    recent.path.write_text("[not json")
    assert recent.paths() == []
    recent.add(tmp_path / "again.swaptalk")
    assert recent.paths() == [tmp_path / "again.swaptalk"]
    recent.clear()
    assert recent.paths() == []
