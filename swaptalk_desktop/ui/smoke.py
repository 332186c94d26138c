"""``swaptalk-desktop --smoke`` (the bundle) / ``python -m swaptalk_desktop.ui.smoke``: start the
editor as a user would, wait until its event loop runs, report what came up, and quit.

The installer's smoke test runs this under a virtual display: it proves that Qt, its platform
plug-in, the style sheet, the icon and the shipped models all load in an installed app. It
prints one JSON line (``"ok": true`` when the window was shown with its title and icon) and
exits 0; else 1 (an exception in a slot while it ran counts as a failure).

    swaptalk-desktop --smoke [--screenshot FILE.png] [--seconds N] [editor arguments...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

_T0 = time.monotonic()


def _process_age() -> float | None:
    """Seconds since this process started (Linux: /proc), so the report counts the
    interpreter's start and the bundle's unpacking too; None elsewhere."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="swaptalk-desktop --smoke")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", help="save the window as a PNG here")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="how long the event loop runs before the report (default 0.5)")
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, editor_argv = _parse(sys.argv[1:] if argv is None else argv)
    age = _process_age()
    base = time.monotonic() - age if age is not None else _T0

    def elapsed() -> float:
        return time.monotonic() - base

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # the window must not offer (and wait on) another session's autosaves
    if "--no-recovery" not in editor_argv:
        editor_argv.append("--no-recovery")
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from .app import create_window
    app, window = create_window(editor_argv)
    window.ask_before_closing = False
    errors: list[str] = []
    app_hook = sys.excepthook

    def hook(exc_type, exc, tb):  # a bug in a slot: the app shows it and goes on; we fail
        errors.append(f"{exc_type.__name__}: {exc}")
        app_hook(exc_type, exc, tb)

    sys.excepthook = hook
    window.show()
    report: dict = {"ok": False}

    def inspect() -> None:
        from ..inference import ModelRegistry
        registry = ModelRegistry()
        report.update({
            "window": window.windowTitle(), "visible": window.isVisible(),
            "size": [window.width(), window.height()],
            "icon": not app.windowIcon().isNull(), "style_sheet_chars": len(app.styleSheet()),
            "platform": QGuiApplication.platformName(),
            "model_sets": sorted(s.id for s in registry.sets()),
            "default_set": registry.default_set_id(),
            # from process start (or, off Linux, from this module's import)
            "seconds_to_event_loop": round(loop_started, 2),
            "seconds_to_report": round(elapsed(), 2),
        })
        if args.screenshot:
            report["screenshot"] = args.screenshot if window.grab().save(args.screenshot) \
                else None
        report["errors"] = errors
        report["ok"] = bool(report["visible"] and report["window"] and report["icon"]
                            and report["style_sheet_chars"] and report["model_sets"]
                            and not errors)
        window.close()
        app.quit()

    def started() -> None:
        nonlocal loop_started
        loop_started = elapsed()
        QTimer.singleShot(int(args.seconds * 1000), inspect)

    loop_started = 0.0
    QTimer.singleShot(0, started)
    app.exec()
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
