"""The preview worker: one thread that decodes the frame under the playhead and runs it through
the engine's preview path, never on the GUI thread.

Only the newest request matters: a request that arrives while another is waiting replaces it,
and one that arrives while a frame is being processed makes the worker skip that frame's
processing as soon as its decode is done. Every result carries the project revision and frame
index it was asked for; the window drops results that no longer match what it shows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..app.context import EngineContext, RangeJob, RunOptions, prepared_for, preview_frame
from ..app.errors import user_message
from ..core.errors import SwapTalkError
from ..media import VideoInfo, VideoReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameRequest:
    revision: int
    index: int
    info: VideoInfo
    job: RangeJob | None = None
    """The edit covering ``index`` when the processed frame is wanted, else None."""


@dataclass(frozen=True)
class FrameResult:
    revision: int
    index: int
    video: Path
    original: np.ndarray


@dataclass(frozen=True)
class ProcessedResult:
    revision: int
    index: int
    video: Path
    processed: np.ndarray | None
    note: str
    """One line for the viewer: cached / computed / no face / the error."""
    error: bool = False


def _open_reader(info: VideoInfo):
    try:
        from ..media.scrub import ScrubReader
        return ScrubReader(info)
    except ImportError:
        return VideoReader(info)


class PreviewWorker(QObject):
    frameReady = Signal(object)       # FrameResult
    processedReady = Signal(object)   # ProcessedResult
    modelsReady = Signal(str, str)    # provider actually used, model set id
    modelsFailed = Signal(str)

    def __init__(self, make_context: Callable[[], EngineContext],
                 parent: QObject | None = None):
        super().__init__(parent)
        self._make_context = make_context
        self._ctx: EngineContext | None = None
        self._cond = threading.Condition()
        self._pending: FrameRequest | None = None
        self._probe: RunOptions | None = None
        self._reset = False
        self._generation = 0
        self._stop = False
        self._busy = False
        self._reader = None
        self._reader_path: Path | None = None
        self._last: tuple | None = None
        self.processed_count = 0
        """Frames actually run through the engine (for tests of 'latest request wins')."""
        self._thread = threading.Thread(target=self._run, name="preview", daemon=True)
        self._thread.start()

    # --- GUI side ---------------------------------------------------------------------------
    def request(self, req: FrameRequest) -> None:
        with self._cond:
            self._pending = req
            self._cond.notify()

    def probe_models(self, run: RunOptions) -> None:
        """Load the model set's sessions when idle, to learn which provider ORT really uses."""
        with self._cond:
            self._probe = run
            self._cond.notify()

    def reset(self) -> None:
        """Settings or models changed: rebuild the engine context before the next frame."""
        with self._cond:
            self._reset = True
            self._generation += 1
            self._cond.notify()

    def forget(self) -> None:
        """The cache changed (a job finished, the cache was cleared): recompute next time."""
        self._last = None

    def idle(self) -> bool:
        with self._cond:
            return not self._busy and self._pending is None and self._probe is None

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)

    # --- worker side ------------------------------------------------------------------------
    def _newer_waiting(self) -> bool:
        with self._cond:
            return self._pending is not None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._stop or self._pending or self._probe):
                    self._cond.wait()
                if self._stop:
                    break
                if self._reset:
                    self._reset = False
                    self._ctx = None
                    self._last = None
                req, self._pending = self._pending, None
                probe = None
                if req is None:  # frames first; a model probe waits for a quiet moment
                    probe, self._probe = self._probe, None
                generation = self._generation
                self._busy = True
            try:
                if req is not None:
                    self._serve(req, generation)
                elif probe is not None:
                    self._load_models(probe)
            except Exception as exc:  # never let the thread die; tell the user one line
                message = user_message(exc, "previewing a frame")
                if req is not None:
                    self.processedReady.emit(ProcessedResult(req.revision, req.index,
                                                             req.info.path, None, message, True))
            finally:
                with self._cond:
                    self._busy = False
        if self._reader is not None:
            self._reader.close()

    def _context(self) -> EngineContext:
        if self._ctx is None:
            self._ctx = self._make_context()
        return self._ctx

    def _load_models(self, run: RunOptions) -> None:
        try:
            ctx = self._context()
            runners = ctx.runners(run.model_set, run.provider, run.batch_size)
            runners.load()
            ctx.landmarker  # noqa: B018 - built now (it holds the GIL ~150 ms), not mid-scrub
            self.modelsReady.emit(runners.provider_report.used, runners.model_set.id)
        except Exception as exc:
            self.modelsFailed.emit(user_message(exc, "loading the models"))

    def _decode(self, info: VideoInfo, index: int) -> np.ndarray:
        if self._reader_path != info.path or self._reader is None:
            if self._reader is not None:
                self._reader.close()
            self._reader, self._reader_path = _open_reader(info), info.path
        return self._reader.frame(index)

    def _serve(self, req: FrameRequest, generation: int) -> None:
        rgb = self._decode(req.info, req.index)
        self.frameReady.emit(FrameResult(req.revision, req.index, req.info.path, rgb))
        if req.job is None or self._newer_waiting():
            return
        if self._last is not None and self._last[0] == (req.job, req.index):
            # The same edit settings at the same frame (a change elsewhere in the document):
            # what was computed still holds, only the revision tag is new.
            _, processed, note = self._last
            self.processedReady.emit(ProcessedResult(req.revision, req.index, req.info.path,
                                                     processed, note))
            return
        try:
            prepared = prepared_for(req.job, self._context())
            result = preview_frame(req.job, req.index, ctx=self._context(), prepared=prepared,
                                   rgb=rgb)
        except SwapTalkError as err:
            self.processedReady.emit(ProcessedResult(req.revision, req.index, req.info.path,
                                                     None, user_message(err), True))
            return
        self.processed_count += 1
        if result.needs_processing:
            note = ("lip sync from the actor's own footage: Process Range to see this frame "
                    "(shown unchanged until then)")
        elif not result.face_found:
            note = "no face in this frame: left unchanged"
        elif result.from_cache:
            note = "processed (from cache)"
        else:
            note = "processed (this frame only; Process range for the tracked result)"
        if result.from_cache or not result.face_found or result.needs_processing:
            self._last = None  # the cache may still fill in; ask again next time
        else:
            self._last = ((req.job, req.index), result.processed, note)
        self.processedReady.emit(ProcessedResult(req.revision, req.index, req.info.path,
                                                 result.processed, note))
        runners = prepared.runners
        with self._cond:
            current = generation == self._generation
        if current:  # not a frame started before the settings changed
            self.modelsReady.emit(runners.provider_report.used, runners.model_set.id)
