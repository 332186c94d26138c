"""Sync-only edits with a lips stage: the actor's own mouth, chosen by the new line's audio.

1. Track the clip around the range (``LIBRARY_SECONDS`` either side, the same shot only): these
   frames are the *library* of the actor's mouths, the range's own frames included.
2. The lips stage turns each frame's mel window into a lip shape relative to the range's
   closed-mouth reference; added to that frame's own closed lips, it is the shape wanted.
3. :func:`faces.mouth_library.choose` picks a library frame per output frame (runs of
   consecutive frames preferred), each placed on the target's nose and cheeks.

The generated crops go into the same chunk cache as the latent path's, and export pastes them
through the same "mouth" mask, so everything above the upper lip stays the source's pixels.
"""

from __future__ import annotations

import numpy as np

from ..core.cancel import CancelToken
from ..core.progress import ProgressCallback
from ..faces import FaceTrack, alignment_matrix, transform_points
from ..faces import mouth_library as ml
from ..faces.warp_swap import swap_crop
from ..media import VideoReader, load_audio, log_mel, mel_windows, to_mono_16k
from ..media.mel import SAMPLE_RATE
from .frames import crop_frame, reference_frame
from .prepare import PreparedJob
from .track_span import track_span

LIBRARY_SECONDS = 10.0
"""Footage tracked either side of the range for the mouth library."""
MIN_LIBRARY = 12
"""Fewer tracked frames than this cannot show a line's mouth shapes: use the latent path."""
EXPRESSIVENESS = 1.3
"""Gain on the predicted lip movement. A regression to the mean predicts about 60 % of the real
movement on held-out speakers; 1.3 brings it visibly closer at a small cost in LMD
(docs/training.md: 1.76 -> 1.83 px, against 2.25 for the closed mouth held)."""


def uses_mouth_library(p: PreparedJob) -> bool:
    """Sync with a lips stage, alone or under a mesh-warp swap (drawn on the chosen mouth)."""
    return (p.job.do_sync and p.runners.has_stage("lips")
            and (not p.job.do_swap or p.source_face is not None))


def library_bounds(p: PreparedJob) -> tuple[int, int]:
    fps = max(p.info.fps, 1.0)
    pad = int(round(LIBRARY_SECONDS * fps))
    return max(0, p.job.start - pad), min(p.info.frame_count, p.job.stop + pad)


def ensure_library(p: PreparedJob, folder, ctx, progress: ProgressCallback | None,
                   cancel: CancelToken) -> FaceTrack:
    """The tracked frames around the range (cached in the range's track folder)."""
    path = folder.path / "library.npz"
    if path.exists():
        return FaceTrack.load(path)
    track = track_span(p, ctx, *library_bounds(p), "track library", progress, cancel)
    track.save(path)
    return track


def library_of(track: FaceTrack, start: int, stop: int, size: int) -> ml.MouthLibrary:
    """Present frames of the shot holding ``start``, in crop-space landmarks."""
    cuts = np.asarray(track.cuts, np.int64)
    shot_lo = int(cuts[cuts <= start].max()) if np.any(cuts <= start) else track.start
    shot_hi = int(cuts[cuts >= stop].min()) if np.any(cuts >= stop) else track.stop
    frames, marks = [], []
    for f in range(max(shot_lo, track.start), min(shot_hi, track.stop)):
        k = f - track.start
        if track.present[k]:
            lm = track.landmarks[k]
            frames.append(f)
            marks.append(transform_points(lm, alignment_matrix(lm, size)))
    if not frames:
        return ml.MouthLibrary.from_track(np.zeros(0, np.int64), np.zeros((0, 478, 2)))
    return ml.MouthLibrary.from_track(np.array(frames), np.stack(marks))


def crop_landmarks(track: FaceTrack, frames: np.ndarray, size: int) -> np.ndarray:
    out = np.full((len(frames), 478, 2), np.nan, np.float32)
    for i, f in enumerate(frames):
        k = int(f) - track.start
        if 0 <= k < len(track) and track.present[k]:
            lm = track.landmarks[k]
            out[i] = transform_points(lm, alignment_matrix(lm, size))
    return out


SOUND_MARGIN_S = 1.0
"""Sound read either side of the library's frames for its mel windows."""
ACTOR_FIT_MIN = 50
"""Library frames with sound needed before the lips stage is refitted to the actor (2 s)."""
ACTOR_FIT_RIDGE = 0.1
"""Ridge penalty per library frame: with few frames the refit stays near the shipped stage."""
ACTOR_FIT_GAIN = 0.95
"""The refit is used only when it cuts the error on the library's held-back quarter by 5 %."""


def _ridge(feats: np.ndarray, residual: np.ndarray) -> np.ndarray:
    a = np.concatenate([feats, np.ones((len(feats), 1), np.float32)], axis=1).astype(np.float64)
    r = residual.reshape(len(a), -1).astype(np.float64)
    penalty = ACTOR_FIT_RIDGE * len(a) * np.eye(a.shape[1])
    return np.linalg.solve(a.T @ a + penalty, a.T @ r).astype(np.float32)


def _corrected(base: np.ndarray, feats: np.ndarray, actor: np.ndarray | None) -> np.ndarray:
    if actor is None:
        return base * np.float32(EXPRESSIVENESS)
    a = np.concatenate([feats, np.ones((len(feats), 1), np.float32)], axis=1)
    return base + (a @ actor).reshape(base.shape)


def fit_actor(runners, mel: np.ndarray, marks: np.ndarray) -> np.ndarray | None:
    """A correction of the lips stage's last layer for one actor, from the library's own
    picture and sound (``mel`` windows and crop-space ``marks`` of the same frames, in order).

    The shipped stage is speaker-independent and predicts about 60 % of the real movement;
    the actor's own footage says how this mouth moves with this voice. A ridge fit of what the
    stage gets wrong on it, from its last hidden layer (closed form, milliseconds), cut the
    held-out error on the 60 s TED clip from 2.04 to 1.47 px (docs/training.md, section 7),
    but did not help every speaker: it is fitted on the first 3/4 of the library, kept only
    when it beats the shipped stage on the last 1/4, then refitted on all of it. None when
    there are too few frames or it does not help."""
    if len(mel) < ACTOR_FIT_MIN:
        return None
    ref = reference_frame(marks, np.ones(len(marks), bool), 0)
    closed = ml.lip_shape(marks[ref])[None]
    target = ml.lip_shape(marks) - closed
    base, feats = runners.lips_with_features(mel)
    cut = int(len(mel) * 0.75)
    trial = _ridge(feats[:cut], target[:cut] - base[:cut])
    held = slice(cut, None)
    error = lambda actor: float(ml.shape_distance(  # noqa: E731
        _corrected(base[held], feats[held], actor), target[held]).mean())
    if error(trial) > ACTOR_FIT_GAIN * error(None):
        return None
    return _ridge(feats, target - base)


def wanted_shapes(runners, mel: np.ndarray, reference_marks: np.ndarray,
                  actor: np.ndarray | None = None) -> np.ndarray:
    """Lip shape per frame: the reference's closed lips plus the change the audio asks for
    (refitted to the actor by ``actor`` from :func:`fit_actor` when given)."""
    base, feats = runners.lips_with_features(mel)
    delta = _corrected(base, feats, actor)
    if len(delta) > 2:
        delta[1:-1] = 0.25 * delta[:-2] + 0.5 * delta[1:-1] + 0.25 * delta[2:]
    return ml.lip_shape(reference_marks)[None] + delta


def plan(p: PreparedJob, track: FaceTrack, library: ml.MouthLibrary,
         lips_mel: np.ndarray, actor: np.ndarray | None = None) -> np.ndarray:
    """Library index per frame of the range (``-1`` where the range has no face)."""
    job, size = p.job, p.runners.crop_size
    frames = np.arange(job.start, job.stop)
    marks = crop_landmarks(track, frames, size)
    present = ~np.isnan(marks[:, 0, 0])
    out = np.full(len(frames), -1, np.int64)
    ref = reference_frame(marks, present, 0)
    if ref is None:
        return out
    wanted = wanted_shapes(p.runners, lips_mel[present], marks[ref], actor)
    out[present] = ml.choose(library, wanted)
    return out


def library_sound(p: PreparedJob, library: ml.MouthLibrary) -> np.ndarray | None:
    """Lips-window mel of the clip's own sound at each library frame (None without sound)."""
    if p.info.audio is None:
        return None
    wave = to_mono_16k(load_audio(p.info.path))
    times = np.array([p.info.audio_time(int(f)) for f in library.frames])
    # only the library's stretch of sound (a take may be many minutes long); the margin keeps
    # every window and the STFT's edge padding inside it, so the windows are the same
    first = int(max(0.0, times.min() - SOUND_MARGIN_S) * SAMPLE_RATE)
    last = int((times.max() + SOUND_MARGIN_S) * SAMPLE_RATE)
    wave = wave[first:last]
    if not np.any(wave):
        return None
    return mel_windows(log_mel(wave), times - first / SAMPLE_RATE,
                       window=p.runners.lips_window)


def library_crops(p: PreparedJob, library: ml.MouthLibrary, picks: np.ndarray,
                  library_track: FaceTrack) -> dict[int, np.ndarray]:
    """The aligned crops of the library frames in ``picks``, read in one forward pass."""
    wanted = sorted({int(library.frames[i]) for i in picks if i >= 0})
    crops: dict[int, np.ndarray] = {}
    if not wanted:
        return crops
    size = p.runners.crop_size
    with VideoReader(p.info) as reader:
        todo = set(wanted)
        for f, rgb in enumerate(reader.read(wanted[0], wanted[-1] + 1), start=wanted[0]):
            if f in todo:
                crops[f] = crop_frame(rgb, library_track.landmarks[f - library_track.start], size)
    return crops


def render_crops(p: PreparedJob, track: FaceTrack, a: int, b: int, picks: np.ndarray,
                 library: ml.MouthLibrary, crops: dict[int, np.ndarray],
                 targets: np.ndarray) -> np.ndarray:
    """Generated crops for frames ``[a, b)`` of the range: each frame's own crop
    (``targets``) with the picked library mouth blended in around the lips (so the jaw line
    the export's mask reaches stays the frame's own). With a mesh-warp swap the photo's face
    is then drawn on that crop, its lips on the chosen mouth's lips."""
    size = p.runners.crop_size
    out = np.zeros((b - a, size, size, 3), np.uint8)
    marks = crop_landmarks(track, np.arange(a, b), size)
    for k in range(b - a):
        pick = int(picks[a - p.job.start + k])
        if pick < 0 or np.isnan(marks[k, 0, 0]):
            continue
        frame = int(library.frames[pick])
        out[k] = ml.blend_mouth(targets[k], marks[k], crops[frame], library.landmarks[pick])
        if p.job.do_swap and p.source_face is not None:
            moved = ml.blended_landmarks(marks[k], library.landmarks[pick], size)
            out[k] = swap_crop(p.source_face, out[k], moved)
    return out
