"""Menus and keyboard shortcuts; every shortcut is shown next to its menu entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMenu, QVBoxLayout, QWidget

from .window_plugins import fill_processor_menu, show_plugins_dialog

if TYPE_CHECKING:
    from .main_window import MainWindow


class Actions:
    """The window's QActions by name (tests trigger them the way a menu click would)."""

    def __init__(self) -> None:
        self.by_name: dict[str, QAction] = {}
        self.menu_of: dict[str, str] = {}
        """The title of each action's menu, for the F1 table's sections."""

    def __getattr__(self, name: str) -> QAction:
        try:
            return self.__dict__["by_name"][name]
        except KeyError:
            raise AttributeError(name) from None


# Keys that act in combination rather than as one menu entry; F1 lists them after the menus'.
CHORDS = [
    ("Step One Frame (hold K, tap J / L)", "K+J, K+L"),
    ("Play ½× While Held (hold K, hold J / L)", "K+J, K+L held"),
    ("Rename / Recolour Marker", "M on it, double-click"),
]


def _add(actions: Actions, menu: QMenu, name: str, text: str, slot: Callable,
         shortcut: str | list[str] | QKeySequence.StandardKey | None = None, tip: str = "",
         repeat: bool = True) -> QAction:
    """``repeat=False``: a held key acts once (J/K/L: holding is part of the gesture)."""
    action = QAction(text, menu.parent())
    if isinstance(shortcut, list):
        action.setShortcuts([QKeySequence(s) for s in shortcut])
    elif shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setAutoRepeat(repeat)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    actions.by_name[name] = action
    actions.menu_of[name] = menu.title().replace("&", "")
    return action


def build_menus(w: MainWindow) -> Actions:
    a = Actions()
    bar = w.menuBar()

    file = bar.addMenu("&File")
    _add(a, file, "new", "&New Project", w.new_project, "Ctrl+N")
    _add(a, file, "open", "&Open Project…", w.open_project_dialog, "Ctrl+O")
    w.recent_menu = file.addMenu("Open &Recent")
    file.addSeparator()
    _add(a, file, "save", "&Save", w.save_project, "Ctrl+S")
    _add(a, file, "save_as", "Save &As…", w.save_project_as, "Ctrl+Shift+S")
    file.addSeparator()
    _add(a, file, "import", "&Import Media…", w.import_dialog, "Ctrl+I",
         "Add clips, face photos and dialogue files to the media bin")
    _add(a, file, "relink", "Re&link Media…", w.relink_dialog)
    file.addSeparator()
    _add(a, file, "export", "&Export…", w.export_dialog, "Ctrl+E")
    _add(a, file, "export_otio", "Export &Timeline (OTIO)…", w.export_timeline_dialog,
         tip="Write the clip, its edits and markers to an OpenTimelineIO file for other editors")
    _add(a, file, "import_otio", "Import Timeline (OTIO/E&DL)…", w.import_timeline_dialog,
         tip="Start a project from an .otio or CMX 3600 .edl cut made in another editor")
    file.addSeparator()
    _add(a, file, "settings", "Se&ttings…", w.settings_dialog, "Ctrl+,")
    _add(a, file, "quit", "&Quit", w.close, "Ctrl+Q")

    edit = bar.addMenu("&Edit")
    undo = w.controller.undo_stack.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence("Ctrl+Z"))
    redo = w.controller.undo_stack.createRedoAction(w, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    edit.addAction(undo)
    edit.addAction(redo)
    a.by_name["undo"], a.by_name["redo"] = undo, redo
    a.menu_of["undo"] = a.menu_of["redo"] = "Edit"
    edit.addSeparator()
    _add(a, edit, "add_edit", "&Add Edit at Marks", w.edits.add_edit, "E",
         "New edit over the in/out marks, or two seconds around the playhead")
    _add(a, edit, "remove_edit", "&Remove Edit", w.edits.remove_selected_edit, "Delete")
    edit.addSeparator()
    _add(a, edit, "mark_in", "Mark &In", w.edits.mark_in, "I")
    _add(a, edit, "mark_out", "Mark &Out", w.edits.mark_out, "O")
    _add(a, edit, "clear_marks", "&Clear Marks", w.edits.clear_marks, "Alt+X")
    edit.addSeparator()
    _add(a, edit, "adapt_actor", "Adapt to This &Actor…", w.adapt.open_dialog, None,
         "Fine-tune the model set on this clip's actor (outside the edit ranges); the clip's "
         "edits then use the adapted set")
    _add(a, edit, "project_models", "Use the &Project's Model Set for This Clip",
         w.adapt.use_project_models)

    play = bar.addMenu("&Playback")
    _add(a, play, "play", "&Play / Pause", w.playback.toggle, "Space")
    _add(a, play, "shuttle_back", "Play &Backward (1×, 2×, 4×)",
         lambda: w.transport.press_shuttle(-1), "J", repeat=False)
    _add(a, play, "stop", "&Stop", w.transport.press_k, "K", repeat=False)
    _add(a, play, "shuttle_fwd", "Play &Forward (1×, 2×, 4×)",
         lambda: w.transport.press_shuttle(1), "L", repeat=False)
    _add(a, play, "slow_back", "Play Backward Slowly (½×)", lambda: w.playback.shuttle_slow(-1),
         "Shift+J", repeat=False)
    _add(a, play, "slow_fwd", "Play Forward Slowly (½×)", lambda: w.playback.shuttle_slow(1),
         "Shift+L", repeat=False)
    scrub = _add(a, play, "audio_scrub", "&Audio Scrubbing", lambda: None, None,
                 "Play the sound under the playhead while it is dragged")
    scrub.setCheckable(True)
    scrub.setChecked(w.playback.scrub_audio)
    scrub.toggled.connect(lambda on: setattr(w.playback, "scrub_audio", on))
    play.addSeparator()
    _add(a, play, "prev_frame", "Previous Frame", lambda: w.edits.step(-1), "Left")
    _add(a, play, "next_frame", "Next Frame", lambda: w.edits.step(1), "Right")
    _add(a, play, "back_second", "Back One Second", lambda: w.edits.step_seconds(-1), "Shift+Left")
    _add(a, play, "fwd_second", "Forward One Second", lambda: w.edits.step_seconds(1),
         "Shift+Right")
    play.addSeparator()
    _add(a, play, "start", "Go to Start", lambda: w.edits.seek(0), "Home")
    _add(a, play, "end", "Go to End", w.edits.seek_end, "End")
    _add(a, play, "go_in", "Go to &In Mark", lambda: w.markers.go_to_mark("in"), "Shift+I")
    _add(a, play, "go_out", "Go to &Out Mark", lambda: w.markers.go_to_mark("out"), "Shift+O")
    _add(a, play, "prev_edit_point", "Previous &Edit Point",
         lambda: w.markers.go_to_edit_point(-1), "Up",
         "The previous edit's start or end, or the clip's first frame")
    _add(a, play, "next_edit_point", "Next E&dit Point",
         lambda: w.markers.go_to_edit_point(1), "Down",
         "The next edit's start or end (the frame after it), or the clip's last frame")

    markers = bar.addMenu("&Markers")
    _add(a, markers, "add_marker", "&Add Marker", w.markers.add, "M",
         "A marker at the playhead; M on a marker opens its name and colour")
    _add(a, markers, "edit_marker", "&Edit Marker at Playhead…", w.markers.edit, None,
         "Rename or recolour the marker at the playhead (or press M on it)")
    _add(a, markers, "delete_marker", "&Delete Marker at Playhead", w.markers.delete,
         "Ctrl+Alt+M")
    markers.addSeparator()
    _add(a, markers, "next_marker", "Go to &Next Marker", lambda: w.markers.go_to_marker(1),
         "Shift+M")
    _add(a, markers, "prev_marker", "Go to &Previous Marker", lambda: w.markers.go_to_marker(-1),
         "Ctrl+Shift+M")

    sequence = bar.addMenu("&Sequence")
    _add(a, sequence, "sequence_add", "&Add Open Clip to Sequence", w.sequence_add_clip, None,
         "The open clip at the end of the sequence: its marked range, or all of it")
    _add(a, sequence, "sequence_remove", "&Remove Clip from Sequence", w.sequence_remove, None,
         "The clip selected in the Sequence panel; its edits stay with the clip")
    _add(a, sequence, "sequence_earlier", "Move Clip &Earlier",
         lambda: w.sequence_move(None, -1))
    _add(a, sequence, "sequence_later", "Move Clip &Later", lambda: w.sequence_move(None, 1))
    _add(a, sequence, "sequence_trim", "&Trim Clip to Marks", w.sequence_trim_to_marks, None,
         "Trim the selected sequence clip to the open clip's in/out marks")
    sequence.addSeparator()
    _add(a, sequence, "sequence_mark_in", "Mark Sequence &In", lambda: w.mark_sequence("in"),
         "Alt+I", "The sequence's in mark at the playhead (for exporting a range of it)")
    _add(a, sequence, "sequence_mark_out", "Mark Sequence &Out",
         lambda: w.mark_sequence("out"), "Alt+O")
    _add(a, sequence, "sequence_clear_marks", "&Clear Sequence Marks",
         lambda: w.mark_sequence("clear"))

    view = bar.addMenu("&View")
    _add(a, view, "view_a", "Source (A)", lambda: w.viewer.set_mode("original"), "1")
    _add(a, view, "view_b", "Processed (B)", lambda: w.viewer.set_mode("processed"), "2")
    _add(a, view, "view_ab", "Wipe A | B", lambda: w.viewer.set_mode("split"), "3")
    view.addSeparator()
    _add(a, view, "zoom_in", "Zoom Timeline &In", w.timeline.zoom_in, ["=", "+"])
    _add(a, view, "zoom_out", "Zoom Timeline &Out", w.timeline.zoom_out, "-")
    _add(a, view, "zoom_fit", "Zoom Timeline to Fit", w.edits.zoom_to_fit, "Shift+Z")
    view.addSeparator()
    for dock in [*w.docks, w.sequence_dock]:
        view.addAction(dock.toggleViewAction())

    process = bar.addMenu("P&rocess")
    _add(a, process, "process_range", "Process &Range", w.process_selected, "Ctrl+R",
         "Track and render the selected edit into the cache")
    _add(a, process, "process_all", "Process &All Edits", w.process_all, "Ctrl+Shift+R")
    _add(a, process, "cancel_all", "&Cancel All Jobs", w.cancel_all_jobs)
    process.addSeparator()
    w.processors_menu = process.addMenu("Face &Processors")
    w.processors_menu.setToolTipsVisible(True)
    w.processors_menu.aboutToShow.connect(lambda: fill_processor_menu(w, w.processors_menu))
    fill_processor_menu(w, w.processors_menu)

    help_menu = bar.addMenu("&Help")
    _add(a, help_menu, "shortcuts", "&Keyboard Shortcuts", w.show_shortcuts, "F1")
    _add(a, help_menu, "plugins", "&Plugins…", lambda: show_plugins_dialog(w))
    _add(a, help_menu, "about", "&About SwapTalk Desktop", w.show_about)
    return a


def shortcut_sections(actions: Actions) -> list[tuple[str, list[tuple[str, str]]]]:
    """(menu title, [(what, keys)]) for every menu entry with a shortcut, in menu order, then
    the CHORDS under "Combinations"."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for name, action in actions.by_name.items():
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                         for s in action.shortcuts())
        if keys:
            sections.setdefault(actions.menu_of.get(name, ""), []).append(
                (action.text().replace("&", ""), keys))
    return [*sections.items(), ("Combinations", list(CHORDS))]


def shortcut_table(actions: Actions) -> list[tuple[str, str]]:
    """(what, keys) of every menu entry with a shortcut, in menu order, then the CHORDS."""
    return [row for _title, rows in shortcut_sections(actions) for row in rows]


def shortcut_html(actions: Actions, columns: int = 3) -> str:
    """The F1 table: the sections in ``columns`` side-by-side columns of about equal length
    (one long list would not fit a 720-pixel screen)."""
    sections = shortcut_sections(actions)
    total = sum(len(rows) + 1 for _t, rows in sections)
    cells: list[list[str]] = [[]]
    used = 0
    for title, rows in sections:
        if cells[-1] and used + len(rows) / 2 > total / columns and len(cells) < columns:
            cells.append([])
            used = 0
        cells[-1].append(f"<tr><td colspan=2 style='padding-top:8px'><b>{title}</b></td></tr>")
        cells[-1] += [f"<tr><td style='white-space:nowrap'>{what}</td>"
                      f"<td style='padding-left:12px; white-space:nowrap'><b>{keys}</b></td>"
                      "</tr>" for what, keys in rows]
        used += len(rows) + 1
    body = "".join(f"<td valign=top style='padding-right:24px'><table>{''.join(c)}</table>"
                   "</td>" for c in cells)
    return f"<table><tr>{body}</tr></table>"


def shortcuts_dialog(actions: Actions, parent: QWidget | None = None) -> QDialog:
    """Help ▸ Keyboard Shortcuts (F1): the table at its natural width (a message box would wrap
    it into a column taller than the screen)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keyboard shortcuts")
    layout = QVBoxLayout(dialog)
    table = QLabel(shortcut_html(actions))
    table.setObjectName("shortcuts")
    table.setTextFormat(Qt.TextFormat.RichText)
    table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout.addWidget(table)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return dialog
