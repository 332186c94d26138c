"""The document's edits as engine jobs (app.project_jobs), and the document's own helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from swaptalk_desktop.app.project_jobs import job_for_edit, jobs_for_clip, run_options
from swaptalk_desktop.core import hashing
from swaptalk_desktop.core.errors import InputError
from swaptalk_desktop.core.project import ClipState, MediaItem, Project, RangeEdit
from swaptalk_desktop.engine import prepare
from swaptalk_desktop.engine.job import RangeJob
from swaptalk_desktop.engine.prepare import prepare_job
from swaptalk_desktop.media import probe_video


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {"v": tmp_path / "take.mp4", "p": tmp_path / "actor.jpg", "a": tmp_path / "line.wav"}
    for path in out.values():
        path.write_bytes(path.name.encode())
    return out


def project_for(files: dict[str, Path], frames: int = 240, **edit_fields) -> Project:
    project = Project(settings={"model_set": "tint", "provider": "cpu"})
    project.media["v"] = MediaItem.from_file(files["v"], "video", {"frames": frames}, id="v")
    project.media["p"] = MediaItem.from_file(files["p"], "photo", id="p")
    project.media["a"] = MediaItem.from_file(files["a"], "audio", id="a")
    project.clips["v"] = ClipState(media_id="v", edits=[
        RangeEdit(id="e", start=5, stop=30, **edit_fields),
        RangeEdit(id="f", start=40, stop=50, photo_id="p")])
    return project


def test_edit_settings_reach_the_job(files):
    project = project_for(files, photo_id="p", audio_id="a", audio_offset=-0.5, feather=4.0,
                          strength=0.6, color_match=False)
    job = job_for_edit(project, "v", "e")
    assert isinstance(job, RangeJob)
    assert (job.video, job.face, job.audio) == (files["v"], files["p"], files["a"])
    assert (job.start, job.stop, job.audio_offset) == (5, 30, -0.5)
    assert (job.edit.feather, job.edit.strength, job.edit.color_match) == (4.0, 0.6, False)
    assert (job.run.model_set, job.run.provider) == ("tint", "cpu")
    assert job.do_swap and job.do_sync


@pytest.mark.parametrize(("fields", "swap", "sync", "has_audio"), [
    ({"photo_id": "p", "audio_id": "a"}, True, True, True),
    ({"photo_id": "p"}, True, False, False),         # sync on, no dialogue: sound kept
    ({"audio_id": "a"}, False, True, True),          # swap on, no photo: face kept
    ({"photo_id": "p", "audio_id": "a", "swap": False}, False, True, True),
    ({"photo_id": "p", "audio_id": "a", "sync": False}, True, False, True),  # dub, no lip sync
])
def test_effective_swap_and_sync(files, fields, swap, sync, has_audio):
    job = job_for_edit(project_for(files, **fields), "v", "e")
    assert (job.do_swap, job.do_sync, job.audio is not None) == (swap, sync, has_audio)


def test_missing_media_is_named(files):
    project = project_for(files, photo_id="p")
    project.media["p"].missing = True
    with pytest.raises(InputError, match=r"^photo actor.jpg is missing \(.*actor.jpg\); relink"):
        job_for_edit(project, "v", "e")
    files["v"].unlink()
    with pytest.raises(InputError, match="clip take.mp4 is missing"):
        job_for_edit(project, "v", "f")


def test_jobs_for_clip_in_timeline_order_and_run_options(files):
    project = project_for(files, photo_id="p")
    assert [(j.start, j.stop) for j in jobs_for_clip(project, "v")] == [(5, 30), (40, 50)]
    project.settings = {"model_set": None, "provider": "auto", "batch_size": 4}
    run = run_options(project)
    assert (run.model_set, run.provider, run.batch_size) == (None, "auto", 4)


def test_sync_without_dialogue_prepares_a_swap_only_job(ctx, clip, face_photo):
    """The engine accepts the mapped job: no sync stage, the clip's own sound is kept."""
    info = probe_video(clip)
    project = Project(settings={"model_set": "tint", "provider": "cpu"})
    project.media["v"] = MediaItem.from_file(clip, "video", {"frames": info.frame_count}, id="v")
    project.media["p"] = MediaItem.from_file(face_photo, "photo", id="p")
    project.clips["v"] = ClipState(media_id="v", edits=[
        RangeEdit(id="e", start=2, stop=info.frame_count - 2, photo_id="p", sync=True)])
    prepared = prepare_job(job_for_edit(project, "v", "e"), None, ctx, info=info)
    # the default mesh-warp swap alone runs no model
    assert prepared.dialogue is None and prepared.source_face is not None
    assert prepared.hashes["models"] == []
    project.clips["v"].edits[0].swap_method = "latent"
    prepared = prepare_job(job_for_edit(project, "v", "e"), None, ctx, info=info)
    assert prepared.dialogue is None and prepared.source_latent is not None
    assert sorted({m["stage"] for m in prepared.hashes["models"]}) == ["decode", "encode", "swap"]


# --- the document's own helpers -----------------------------------------------------------------
def test_media_items_are_fingerprinted_and_absolute(files, monkeypatch):
    monkeypatch.chdir(files["v"].parent)
    item = MediaItem.from_file("take.mp4", "video")
    assert item.path == files["v"] and item.path.is_absolute()
    assert item.fingerprint == hashing.content_fingerprint(files["v"])
    assert prepare.content_fingerprint is hashing.content_fingerprint  # one implementation
    assert MediaItem(id="x", kind="photo", path="/a/b/../c.jpg").path == Path("/a/c.jpg")
    with pytest.raises(InputError, match="cannot import .*nothing.mp4: file not found"):
        MediaItem.from_file("nothing.mp4", "video")
    with pytest.raises(InputError, match="unknown media kind 'image'"):
        MediaItem(id="x", kind="image", path="/a.jpg")


def test_document_lookups(files):
    project = project_for(files, photo_id="p", audio_id="a")
    assert project.edit("v", "e").length == 25
    assert [(c, e.id) for c, e in project.users_of("p")] == [("v", "e"), ("v", "f")]
    assert project.clips["v"].edit_at(29).id == "e" and project.clips["v"].edit_at(30) is None
    with pytest.raises(InputError, match="edit zz is not on clip take.mp4"):
        project.edit("v", "zz")
    with pytest.raises(InputError, match="clip w is not open in the timeline"):
        project.edit("w", "e")
    copy = project.copy()
    copy.edit("v", "e").start = 0
    assert project.edit("v", "e").start == 5
