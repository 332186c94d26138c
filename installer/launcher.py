"""The bundle's two programs: ``swaptalk`` (the command line) and ``swaptalk-desktop`` (the
editor; ``--smoke`` starts it, reports and quits, see swaptalk_desktop/ui/smoke.py).

The app starts helper processes as ``sys.executable -m MODULE ...`` (the processing host, the
adaptation job). In the bundle ``sys.executable`` is this program, so that form is honoured
here: the module runs as ``__main__`` with the rest of the arguments.
"""

import multiprocessing
import runpy
import sys
from pathlib import Path


def main() -> int:
    argv = sys.argv[1:]
    if len(argv) >= 2 and argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    if Path(sys.executable).name.startswith("swaptalk-desktop"):
        if "--smoke" in argv:
            from swaptalk_desktop.ui.smoke import main as smoke
            return smoke(argv)
        from swaptalk_desktop.ui.app import main as editor
        return editor(argv)
    from swaptalk_desktop.cli import main as cli
    return cli(argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
