"""Markers and the editor's navigation keys on the real window: M adds a marker at the playhead
(undoable, named and coloured in its dialog, listed, drawn, saved), Shift+M / Ctrl+Shift+M jump
between markers, = / - zoom the timeline, Shift+I / Shift+O go to the marks, Up / Down go to
edit points, Shift+J / Shift+L and K held with J / L held play at ½×, K held with J / L tapped
steps one frame; every one of them is in the menus and in F1."""

from __future__ import annotations

import json

import pytest
from gui_helpers import WAIT_MS, import_and_open, key
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QLabel

from swaptalk_desktop.core.commands import SetMarks
from swaptalk_desktop.ui.actions import shortcut_table
from swaptalk_desktop.ui.markers_panel import MarkerDialog

SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def opened(qtbot, window, clip):
    w = window
    clip_id = import_and_open(qtbot, w, clip)
    return w, clip_id, w.controller.project.clips[clip_id]


def test_m_adds_a_marker_at_the_playhead_and_undo_removes_it(qtbot, opened):
    w, clip_id, state = opened
    w.seek(12)
    key(w, Qt.Key.Key_M)
    assert [(m.frame, m.name, m.color) for m in state.markers] == [(12, "Marker 1", "green")]
    assert [m.frame for m in w.timeline.state.markers] == [12]  # drawn on the ruler
    assert w.markers_panel.tree.topLevelItemCount() == 1
    assert w.markers_panel.tree.topLevelItem(0).text(1) == "Marker 1"
    assert w.markers_panel.tree.topLevelItem(0).text(0) == "00:00:00:12"
    key(w, Qt.Key.Key_Z, CTRL)
    assert state.markers == []
    assert w.timeline.state.markers == []
    assert w.markers_panel.tree.topLevelItemCount() == 0
    key(w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert [m.frame for m in state.markers] == [12]


def test_m_on_a_marker_opens_its_dialog_rename_and_recolour_are_one_undo_step(qtbot, opened):
    w, clip_id, state = opened
    w.seek(7)
    key(w, Qt.Key.Key_M)
    steps = w.controller.undo_stack.count()
    key(w, Qt.Key.Key_M)  # M again on the marker: its dialog, not a second marker
    dialog = w.findChild(MarkerDialog)
    assert dialog is not None and dialog.isVisible()
    assert len(state.markers) == 1
    dialog.name.setText("pickup line 7")
    dialog.color.setCurrentIndex(dialog.color.findData("red"))
    dialog.accept()
    marker = state.markers[0]
    assert (marker.frame, marker.name, marker.color) == (7, "pickup line 7", "red")
    assert w.controller.undo_stack.count() == steps + 1
    assert w.markers_panel.tree.topLevelItem(0).text(1) == "pickup line 7"
    w.seek(20)
    key(w, Qt.Key.Key_M)  # the next marker takes the colour last chosen
    assert state.markers[1].color == "red"
    key(w, Qt.Key.Key_Z, CTRL)
    key(w, Qt.Key.Key_Z, CTRL)
    assert (state.markers[0].name, state.markers[0].color) == ("Marker 1", "green")
    # the dialog's Delete, and Ctrl+Alt+M at the playhead, delete (undoably)
    w.seek(7)
    dialog = w.markers.edit()
    dialog.done(MarkerDialog.DELETE)
    assert state.markers == []
    key(w, Qt.Key.Key_Z, CTRL)
    key(w, Qt.Key.Key_M, CTRL | Qt.KeyboardModifier.AltModifier)
    assert state.markers == []


def test_next_and_previous_marker_and_the_list_jump(qtbot, opened):
    w, clip_id, state = opened
    for frame in (30, 5, 18):
        w.seek(frame)
        key(w, Qt.Key.Key_M)
    assert [m.frame for m in state.markers] == [5, 18, 30]
    w.seek(0)
    key(w, Qt.Key.Key_M, SHIFT)
    assert w.playhead == 5
    key(w, Qt.Key.Key_M, SHIFT)
    assert w.playhead == 18
    key(w, Qt.Key.Key_M, SHIFT)
    key(w, Qt.Key.Key_M, SHIFT)  # no marker after the last: stays
    assert w.playhead == 30
    key(w, Qt.Key.Key_M, CTRL | SHIFT)
    assert w.playhead == 18
    w.seek(17)
    key(w, Qt.Key.Key_M, CTRL | SHIFT)
    assert w.playhead == 5
    tree = w.markers_panel.tree
    item = tree.topLevelItem(2)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(
        item).center())
    assert w.playhead == 30
    # a double-click on a marker's flag in the ruler opens its dialog
    viewport = w.timeline.viewport()
    at = w.timeline.point_at(18, "ruler").toPoint()
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=at)
    dialog = w.findChild(MarkerDialog)
    assert dialog is not None and dialog.marker_id == state.markers[1].id
    dialog.reject()


def test_equals_and_minus_zoom_the_timeline(qtbot, opened):
    w, _, _ = opened
    x0, x1 = w.timeline.visible_range()
    key(w, Qt.Key.Key_Equal)
    y0, y1 = w.timeline.visible_range()
    assert y1 - y0 == pytest.approx((x1 - x0) / 1.5)
    key(w, Qt.Key.Key_Minus)
    z0, z1 = w.timeline.visible_range()
    assert z1 - z0 == pytest.approx(x1 - x0)


def test_shift_i_and_shift_o_go_to_the_marks(qtbot, opened):
    w, clip_id, state = opened
    w.seek(6)
    key(w, Qt.Key.Key_I)
    w.seek(21)
    key(w, Qt.Key.Key_O)
    assert (state.mark_in, state.mark_out) == (6, 22)
    w.seek(35)
    key(w, Qt.Key.Key_I, SHIFT)
    assert w.playhead == 6
    key(w, Qt.Key.Key_O, SHIFT)
    assert w.playhead == 21  # the out mark's own frame, the last of the range
    w.controller.push(SetMarks(clip_id, None, None))
    key(w, Qt.Key.Key_I, SHIFT)  # no mark: the playhead stays
    assert w.playhead == 21


def test_up_and_down_go_to_edit_points(qtbot, opened):
    w, clip_id, state = opened
    last = w.info.frame_count - 1
    for span in ((5, 12), (20, 30)):
        w.controller.push(SetMarks(clip_id, *span))
        w.add_edit()
    assert [(e.start, e.stop) for e in state.edits] == [(5, 12), (20, 30)]
    w.seek(0)
    downs = []
    for _ in range(6):
        key(w, Qt.Key.Key_Down)
        downs.append(w.playhead)
    assert downs == [5, 12, 20, 30, last, last]
    ups = []
    for _ in range(6):
        key(w, Qt.Key.Key_Up)
        ups.append(w.playhead)
    assert ups == [30, 20, 12, 5, 0, 0]


def test_k_held_with_l_or_j_tapped_steps_one_frame(qtbot, opened):
    w, _, _ = opened
    w.seek(10)
    QTest.keyPress(w, Qt.Key.Key_K)
    QTest.keyClick(w, Qt.Key.Key_L)
    assert w.playhead == 11 and not w.playback.playing
    QTest.keyClick(w, Qt.Key.Key_L)
    assert w.playhead == 12
    QTest.keyClick(w, Qt.Key.Key_J)
    assert w.playhead == 11
    qtbot.wait(450)  # a tap is not a hold: nothing starts playing afterwards
    assert not w.playback.playing and w.playhead == 11
    QTest.keyRelease(w, Qt.Key.Key_K)
    QTest.keyClick(w, Qt.Key.Key_L)  # without K, L plays again
    assert w.playback.speed == 1
    key(w, Qt.Key.Key_K)


def test_half_speed_with_shift_and_with_k_held(qtbot, opened):
    w, _, _ = opened
    w.seek(0)
    key(w, Qt.Key.Key_L, SHIFT)
    assert w.playback.speed == 0.5
    assert "½×" in w.statusBar().currentMessage()
    key(w, Qt.Key.Key_L)  # L from ½× goes to 1×
    assert w.playback.speed == 1
    key(w, Qt.Key.Key_K)
    w.seek(30)
    key(w, Qt.Key.Key_J, SHIFT)
    assert w.playback.speed == -0.5
    key(w, Qt.Key.Key_K)
    # K held, L held: one frame at once, then ½× forward until L is let go
    w.seek(5)
    QTest.keyPress(w, Qt.Key.Key_K)
    QTest.keyPress(w, Qt.Key.Key_L)
    assert w.playhead == 6
    qtbot.waitUntil(lambda: w.playback.speed == 0.5, timeout=2000)
    qtbot.waitUntil(lambda: w.playhead >= 8, timeout=WAIT_MS)
    QTest.keyRelease(w, Qt.Key.Key_L)
    assert not w.playback.playing
    QTest.keyRelease(w, Qt.Key.Key_K)


def test_every_key_is_in_the_menus_and_in_f1(qtbot, opened):
    w, _, _ = opened
    rows = dict(shortcut_table(w.acts))
    wanted = {"Add Marker": "M", "Delete Marker at Playhead": "Ctrl+Alt+M",
              "Go to Next Marker": "Shift+M", "Go to Previous Marker": "Ctrl+Shift+M",
              "Zoom Timeline In": "=, +", "Zoom Timeline Out": "-",
              "Go to In Mark": "Shift+I", "Go to Out Mark": "Shift+O",
              "Previous Edit Point": "Up", "Next Edit Point": "Down",
              "Play Backward Slowly (½×)": "Shift+J", "Play Forward Slowly (½×)": "Shift+L",
              "Stop": "K"}
    for name, keys in wanted.items():
        assert rows.get(name) == keys, name
    assert any("tap J / L" in name for name in rows)
    assert any("hold J / L" in name for name in rows)
    menus = {a.text().replace("&", "") for m in w.menuBar().actions() for a in m.menu().actions()}
    assert {"Add Marker", "Edit Marker at Playhead…", "Go to Next Marker", "Zoom Timeline In",
            "Next Edit Point", "Go to In Mark"} <= menus
    key(w, Qt.Key.Key_F1)
    box = next(b for b in w.findChildren(QDialog) if b.windowTitle() == "Keyboard shortcuts")
    text = box.findChild(QLabel, "shortcuts").text()
    for keys in ("Ctrl+Shift+M", "K+J, K+L", "Shift+I", "Shift+L", "Down", "=, +"):
        assert f"<b>{keys}</b>" in text, keys
    assert box.isVisible() and box.height() < 700  # fits a 1280×720 screen
    box.close()


def test_markers_survive_save_and_load(qtbot, opened, tmp_path):
    w, clip_id, state = opened
    w.seek(9)
    key(w, Qt.Key.Key_M)
    w.seek(25)
    key(w, Qt.Key.Key_M)
    path = tmp_path / "take.swaptalk"
    assert w.controller.save_as(path)
    data = json.loads(path.read_text())
    assert [m["frame"] for m in data["clips"][0]["markers"]] == [9, 25]
    w.new_project()
    assert w.markers_panel.tree.topLevelItemCount() == 0
    assert w.open_project(path)
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    clip = w.controller.project.clips[clip_id]
    assert [(m.frame, m.name) for m in clip.markers] == [(9, "Marker 1"), (25, "Marker 2")]
    assert [m.frame for m in w.timeline.state.markers] == [9, 25]
    assert w.markers_panel.tree.topLevelItemCount() == 2
    # a file without markers (as every file before them) still opens
    for entry in data["clips"]:
        entry.pop("markers")
    path.write_text(json.dumps(data))
    assert w.open_project(path)
    qtbot.waitUntil(lambda: w.info is not None, timeout=WAIT_MS)
    assert w.controller.project.clips[clip_id].markers == []
    assert w.markers_panel.tree.topLevelItemCount() == 0


def test_a_press_on_a_marker_flag_seeks_to_its_frame(qtbot, opened):
    w, _, state = opened
    w.seek(14)
    key(w, Qt.Key.Key_M)
    w.seek(0)
    at = w.timeline.point_at(14, "ruler") + QPointF(2, 0)  # a little beside the flag's tip
    QTest.mouseClick(w.timeline.viewport(), Qt.MouseButton.LeftButton, pos=at.toPoint())
    assert w.playhead == 14


def test_in_the_marker_list_arrows_move_between_markers_and_delete_deletes_one(qtbot, opened):
    w, clip_id, state = opened
    w.controller.push(SetMarks(clip_id, 0, 40))
    w.add_edit()  # Delete outside the list would remove this edit
    for frame in (4, 16, 28):
        w.seek(frame)
        key(w, Qt.Key.Key_M)
    tree = w.markers_panel.tree
    tree.setFocus()
    tree.setCurrentItem(tree.topLevelItem(0))
    assert w.playhead == 4
    QTest.keyClick(tree, Qt.Key.Key_Down)
    assert w.playhead == 16  # the next marker, not the next edit point
    QTest.keyClick(tree, Qt.Key.Key_Delete)
    assert [m.frame for m in state.markers] == [4, 28]
    assert len(state.edits) == 1
