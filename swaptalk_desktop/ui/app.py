"""``swaptalk-desktop`` / ``python -m swaptalk_desktop`` (no arguments): the editor."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="swaptalk-desktop",
                                     description="SwapTalk Desktop: the dialogue-replacement "
                                     "editor (the command line is `swaptalk`).")
    parser.add_argument("project", nargs="?", type=Path, help="project file to open")
    parser.add_argument("--models-dir", type=Path, action="append", default=[],
                        help="extra folder with a models manifest.json (repeatable)")
    parser.add_argument("--no-recovery", action="store_true",
                        help="do not offer the autosaves a crashed session left (all of them at "
                        "a bare start, the project's own when one is given)")
    return parser.parse_args(argv)


def create_window(argv: list[str] | None = None):
    """Build the QApplication (if needed) and the main window, as ``main`` does."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication

    from ..app.errors import setup_logging
    from .style import apply_style
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SwapTalk Desktop")
    app.setOrganizationName("swaptalk")
    apply_style(app)
    setup_logging()
    _install_excepthook()
    from .main_window import MainWindow
    window = MainWindow(models_dirs=args.models_dir)
    if args.project is not None:  # its crashed autosave, if any, is offered first
        window.open_project(args.project, recover=not args.no_recovery)
    elif not args.no_recovery:
        window.offer_recovery()
    return app, window


def _install_excepthook() -> None:
    """A bug in a slot is logged with its traceback and shown as one line, and the app goes
    on (PySide would otherwise print it to a console the user does not see)."""
    from ..app.errors import user_message

    def hook(exc_type, exc, tb):
        sys.__excepthook__(exc_type, exc, tb)  # the console (if any) gets the traceback
        if issubclass(exc_type, KeyboardInterrupt):
            return
        message = user_message(exc.with_traceback(tb))
        from PySide6.QtWidgets import QApplication
        for widget in QApplication.topLevelWidgets():
            show = getattr(widget, "show_error", None)
            if show is not None:
                show(message)
                break

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    app, window = create_window(argv)
    window.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
