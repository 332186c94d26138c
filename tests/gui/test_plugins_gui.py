"""Plugins in the editor: a broken plugin is reported (status bar note, Help ▸ Plugins…) and the
editor works on; the example's face processor is offered in Process ▸ Face Processors, turned
on for the project, and used by processing, while one whose code is broken fails in one line."""

from __future__ import annotations

import os

import pytest
from gui_helpers import WAIT_MS, import_and_open, open_window, wait_job
from plugin_helpers import install_broken_plugin, install_plugin

from swaptalk_desktop.core.commands import SetMarks
from swaptalk_desktop.core.plugins import ENV_DISABLE, set_plugin_host


@pytest.fixture
def broken_plugins(tmp_path, monkeypatch):
    """Two broken plugins installed besides the real ones, for this process and the job host."""
    site = tmp_path / "site"
    install_broken_plugin(site)
    install_plugin(site, "swaptalk-bad", "swaptalk_bad", 'schema = 1\nname = "swaptalk-bad"\n')
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.delenv(ENV_DISABLE, raising=False)
    old = set_plugin_host(None)
    yield site
    set_plugin_host(old)


def test_broken_plugin_is_reported_and_the_editor_works(qtbot, broken_plugins, models_dir,
                                                        clip, face_photo):
    w = open_window(qtbot, models_dir)
    try:
        qtbot.waitUntil(lambda: "swaptalk-bad" in w.statusBar().currentMessage(),
                        timeout=WAIT_MS)
        note = w.statusBar().currentMessage()
        assert "has no 'version'" in note and "Help ▸ Plugins…" in note and "\n" not in note

        w.acts.plugins.trigger()
        rows = {name: (version, state) for name, version, state in w.plugins_dialog.rows()}
        assert rows["Example: sharpen the new face"] == ("1.0.0", "enabled")
        assert rows["ONNX Runtime backends (CPU, CUDA)"] == ("1.0.0", "enabled")
        assert rows["swaptalk-bad"] == ("", "disabled")
        w.plugins_dialog.close()

        w.processors_menu.aboutToShow.emit()
        offered = {a.data(): a for a in w.processors_menu.actions()}
        assert {"example.sharpen", "broken.boom"} <= set(offered)
        assert not any(a.isChecked() for a in offered.values())

        clip_id = import_and_open(qtbot, w, clip, face_photo)
        w.controller.push(SetMarks(clip_id, 5, 12))
        w.add_edit()
        edit = w.controller.project.clips[clip_id].edits[0]
        assert w.job_for(edit.id).edit.processors == ()

        offered["broken.boom"].setChecked(True)  # its manifest is fine, its code is not
        assert w.controller.project.settings["processors"] == ["broken.boom"]
        job_id = w.process_edits([edit.id])[0]
        wait_job(qtbot, w, job_id)
        record = w.jobs.record(job_id)
        assert record.state == "failed" and "broken on purpose" in record.error
        assert "\n" not in record.error and "Traceback" not in record.error

        w.processors_menu.aboutToShow.emit()
        offered = {a.data(): a for a in w.processors_menu.actions()}
        # it is disabled now, and the menu says so while it is still on for the project
        assert "not available" in offered["broken.boom"].text()
        offered["broken.boom"].setChecked(False)
        offered["example.sharpen"].setChecked(True)
        assert w.job_for(edit.id).edit.processors == ("example.sharpen",)
        job_id = w.process_edits([edit.id])[0]
        wait_job(qtbot, w, job_id)
        assert w.jobs.record(job_id).state == "done", w.jobs.record(job_id).error
    finally:
        w.shutdown()
