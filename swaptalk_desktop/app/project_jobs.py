"""From the editor's document to engine jobs (core stays free of engine imports)."""

from __future__ import annotations

from ..core.errors import InputError
from ..core.project import MediaItem, Project, RangeEdit
from ..engine.job import EditOptions, RangeJob, RunOptions


def _present(item: MediaItem, role: str) -> MediaItem:
    if item.missing or not item.path.is_file():
        raise InputError(f"{role} {item.name} is missing ({item.path}); relink it")
    return item


def model_set_for(project: Project, clip_id: str | None) -> str | None:
    """The set a clip's edits use: the clip's own (adapted to its actor) or the project's."""
    clip = project.clips.get(clip_id) if clip_id else None
    if clip is not None and clip.model_set:
        return clip.model_set
    return project.settings.get("model_set") or None


def run_options(project: Project, clip_id: str | None = None) -> RunOptions:
    settings = project.settings
    extra = {k: int(settings[k]) for k in ("batch_size", "chunk_frames") if settings.get(k)}
    return RunOptions(provider=settings.get("provider") or "auto",
                      model_set=model_set_for(project, clip_id), **extra)


def job_for_edit(project: Project, clip_id: str, edit_id: str) -> RangeJob:
    """The RangeJob that renders one edit.

    The project's frame processors (settings["processors"], plugin ids in order; Process ▸
    Face Processors) apply to every edit, so preview, playback and export agree.

    Swap happens only when it is on and a photo is chosen; lip sync only when it is on and
    dialogue is chosen (sync on without dialogue keeps the original sound and mouth). Chosen
    dialogue replaces the range's sound even with sync off, as on the command line.
    """
    edit: RangeEdit = project.edit(clip_id, edit_id)
    video = _present(project.media_item(clip_id), "clip")
    face = _present(project.media_item(edit.photo_id), "photo") if edit.photo_id else None
    audio = _present(project.media_item(edit.audio_id), "dialogue") if edit.audio_id else None
    options = EditOptions(swap=edit.swap and face is not None,
                          sync=edit.sync and audio is not None,
                          feather=edit.feather, strength=edit.strength,
                          color_match=edit.color_match, swap_method=edit.swap_method,
                          processors=tuple(project.settings.get("processors") or ()))
    return RangeJob(video=video.path, start=edit.start, stop=edit.stop,
                    face=face.path if face else None, audio=audio.path if audio else None,
                    audio_offset=edit.audio_offset, edit=options,
                    run=run_options(project, clip_id))


def exportable(job: RangeJob) -> bool:
    """An edit that changes the picture or the sound (a dialogue-only edit, sync off, still
    puts its line in the export); an edit with neither is left out."""
    return job.changes_picture or job.audio is not None


def jobs_for_clip(project: Project, clip_id: str) -> list[RangeJob]:
    """Every edit of the clip in timeline order, e.g. for an export."""
    return [job_for_edit(project, clip_id, e.id) for e in project.clip(clip_id).edits]


def sequence_parts(project: Project):
    """The project's sequence for :func:`.sequence_export.export_sequence`: each clip's
    file, its trim and every edit of that clip (the export leaves out those outside it)."""
    from ..engine.sequence_export import SequencePart

    if not project.sequence:
        raise InputError("the sequence is empty; open a clip (it goes in the sequence) first")
    parts = []
    for span in project.sequence_spans():
        video = _present(project.media_item(span.media_id), "clip")
        parts.append(SequencePart(video.path, span.source_in, span.source_out,
                                  tuple(jobs_for_clip(project, span.media_id))))
    return parts
