"""The ``swaptalk`` command line: headless render, probe and model management."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

import platformdirs

from .. import __version__
from ..core.errors import SwapTalkError, internal_error_message
from .adapt_cmd import add_adapt_parser
from .bench_cmd import add_bench_parser
from .demo_cmd import add_demo_parser
from .display import Display, DisplayLogHandler, JsonDisplay
from .eval_cmd import add_eval_parser
from .export_cmd import add_export_parser
from .models_cmd import add_models_parser
from .otio_cmd import add_otio_parser
from .plugins_cmd import add_plugins_parser
from .probe_cmd import add_probe_parser
from .render_cmd import add_render_parser
from .train_cmd import add_train_parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swaptalk", description="SwapTalk Desktop: replace the face and/or dialogue of a "
        "range of a clip (face swap and lip sync in one latent space).")
    parser.add_argument("--version", action="version", version=f"swaptalk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_demo_parser(sub)
    add_render_parser(sub)
    add_export_parser(sub)
    add_probe_parser(sub)
    add_models_parser(sub)
    add_bench_parser(sub)
    add_eval_parser(sub)
    add_train_parser(sub)
    add_adapt_parser(sub)
    add_otio_parser(sub)
    add_plugins_parser(sub)
    return parser


def _log_internal_error(exc: BaseException) -> Path | None:
    try:
        folder = Path(platformdirs.user_log_dir("swaptalk-desktop"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "swaptalk.log"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)) + "\n")
        return path
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    display = JsonDisplay() if getattr(args, "json_progress", False) else Display(
        quiet=getattr(args, "quiet", False))
    handler = DisplayLogHandler(display)
    root = logging.getLogger("swaptalk_desktop")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    try:
        return int(args.run(args, display) or 0)
    except SwapTalkError as err:
        if isinstance(display, JsonDisplay):
            kind = "cancelled" if err.exit_code == 130 else "error"
            display.error(str(err), err.exit_code, kind)
        else:
            display.error(str(err))
        return err.exit_code
    except Exception as exc:  # a bug: one line for the user, the traceback in the log
        text = internal_error_message(exc, details=_log_internal_error(exc))
        display.error(text) if isinstance(display, Display) else display.error(text, 1)
        return 1
    finally:
        root.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
