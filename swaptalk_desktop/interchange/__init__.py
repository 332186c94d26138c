"""Timeline interchange with other editors: OpenTimelineIO (``.otio``) and CMX 3600 EDLs.

Qt-free; above core/ and media/ (it probes the media an imported cut names), below ui/ and
cli/. The ``opentimelineio`` package is imported only here.
"""

from .otio_io import (
    IMPORT_SUFFIXES,
    OtioImport,
    export_otio,
    import_timeline,
    project_to_timeline,
    timeline_to_project,
)

__all__ = ["IMPORT_SUFFIXES", "OtioImport", "export_otio", "import_timeline",
           "project_to_timeline", "timeline_to_project"]
