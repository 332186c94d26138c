"""``python -m swaptalk_desktop``: the editor with no arguments, the command line with any."""

import sys

if len(sys.argv) > 1:
    from .cli import main
else:
    from .ui.app import main

sys.exit(main())
