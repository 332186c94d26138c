"""The editor's jobs (app/jobs.py) as a Qt object: record changes arrive on the job queue's
worker thread and are re-emitted on the GUI thread as ``recordChanged``, once the manager's
own view of the records has taken them in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..app.errors import log_dir
from ..app.jobs import JobManager, JobRecord


class JobBridge(QObject, JobManager):
    recordChanged = Signal(object)   # JobRecord snapshot, on the GUI thread
    _relay = Signal(object)

    def __init__(self, models_dirs: Callable[[], list[Path]], parent: QObject | None = None):
        # PySide6 hands the keywords QObject does not take on to JobManager.__init__
        super().__init__(parent, models_dirs=models_dirs,
                         on_change=lambda record: self._relay.emit(record),
                         log_path=log_dir() / "job-host.log")
        self._relay.connect(self._on_record)

    def _on_record(self, record: JobRecord) -> None:
        self.record_changed(record)
        self.recordChanged.emit(record)
