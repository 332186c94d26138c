"""Plugins in the editor: Help ▸ Plugins… (every plugin, what it adds, why one is off), a
status-bar note at start-up when one is disabled, and Process ▸ Face Processors (the frame
processors plugins add, turned on for the project: preview, processing and export all use
them). The plugin host itself is Qt-free (core/plugins.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.plugin_manifest import FRAME_PROCESSOR, KINDS
from ..core.plugins import ENV_DISABLE, Plugin, plugin_host

PROCESSORS_SETTING = "processors"


def plugin_problems() -> list[str]:
    return plugin_host().problems()


class PluginsDialog(QDialog):
    """Help ▸ Plugins…: one row per plugin (name, version, state), its contributions below."""

    def __init__(self, plugins: list[Plugin], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.resize(720, 420)
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Plugin", "Version", "State"])
        self.tree.setRootIsDecorated(True)
        for plugin in plugins:
            state = "enabled" if plugin.enabled else (
                f"turned off ({ENV_DISABLE})" if plugin.by_user else "disabled")
            row = QTreeWidgetItem([plugin.display_name, plugin.version, state])
            row.setToolTip(0, f"{plugin.name}\n{plugin.source}")
            if plugin.reason:
                reason = QTreeWidgetItem([f"Why: {plugin.reason}", "", ""])
                reason.setToolTip(0, plugin.reason)
                row.addChild(reason)
            for c in plugin.contributions:
                child = QTreeWidgetItem([f"{KINDS[c.kind].capitalize()}: {c.title}", c.version,
                                         c.id])
                child.setToolTip(0, c.description or c.title)
                row.addChild(child)
            for note in plugin.notes:
                row.addChild(QTreeWidgetItem([f"Note: {note}", "", ""]))
            self.tree.addTopLevelItem(row)
            row.setExpanded(True)
        for column in range(3):
            self.tree.resizeColumnToContents(column)
        layout.addWidget(self.tree)
        hint = QLabel(f"Plugins are read from their manifests; their code runs only when "
                      f"used. A plugin that fails is turned off and the rest of the editor "
                      f"keeps working. To turn plugins off, start the editor with "
                      f"{ENV_DISABLE}=name,… (or all).")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        layout.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """(name, version, state) of each plugin as shown (for tests)."""
        return [tuple(self.tree.topLevelItem(i).text(c) for c in range(3))
                for i in range(self.tree.topLevelItemCount())]


def show_plugins_dialog(w) -> PluginsDialog:
    dialog = PluginsDialog(plugin_host().plugins(), w)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    w.plugins_dialog = dialog
    dialog.open()
    return dialog


def note_disabled_plugins(w) -> str:
    """A non-modal note in the status bar when a plugin is disabled; returns its text."""
    problems = plugin_problems()
    if not problems:
        return ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    text = f"⚠ {problems[0]}{more}; it is turned off — see Help ▸ Plugins…"
    w.statusBar().showMessage(text, 15000)
    return text


def enabled_processors(w) -> list[str]:
    return list(w.controller.project.settings.get(PROCESSORS_SETTING) or [])


def fill_processor_menu(w, menu: QMenu) -> None:
    """One checkable entry per frame processor plugins add (rebuilt each time it opens)."""
    menu.clear()
    on = enabled_processors(w)
    processors = plugin_host().contributions(FRAME_PROCESSOR)
    for c in processors:
        action = QAction(c.title, menu)
        action.setCheckable(True)
        action.setChecked(c.id in on)
        action.setToolTip(f"{c.description or c.title} ({c.id} {c.version}, plugin {c.plugin})")
        action.setData(c.id)
        action.toggled.connect(lambda checked, pid=c.id: set_processor(w, pid, checked))
        menu.addAction(action)
    missing = [pid for pid in on if pid not in {c.id for c in processors}]
    for pid in missing:  # on in this project but not available here: say so, allow turning off
        action = QAction(f"{pid} (not available — see Help ▸ Plugins…)", menu)
        action.setCheckable(True)
        action.setChecked(True)
        action.setData(pid)
        action.toggled.connect(lambda checked, pid=pid: set_processor(w, pid, checked))
        menu.addAction(action)
    if not processors and not missing:
        empty = QAction("No plugin adds a face processor", menu)
        empty.setEnabled(False)
        menu.addAction(empty)


def set_processor(w, pid: str, on: bool) -> None:
    """Turn a frame processor on or off for the whole project (kept in its order)."""
    current = enabled_processors(w)
    if on and pid not in current:
        current.append(pid)
    elif not on and pid in current:
        current.remove(pid)
    else:
        return
    w.controller.set_setting(PROCESSORS_SETTING, current)
    w.show_message(f"face processor {pid} {'on' if on else 'off'} for this project")
