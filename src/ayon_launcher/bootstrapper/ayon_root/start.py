"""``python AYON_ROOT/start.py ARGS``: re-enters this launcher, as ``ayon ARGS`` does.

ayon-core builds launcher command lines as ``AYON_EXECUTABLE AYON_ROOT/start.py ARGS`` when the
executable's name contains "python" (a launcher run from source); this file makes that work.
"""

import os
import sys

if __name__ == "__main__":
    # Run as a script, this folder is sys.path[0]: drop it, so that `version` and friends here
    # never shadow a module of the same name.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        del sys.path[0]
    from ayon_launcher.bootstrapper.cli.entry import main

    main(sys.argv[1:])
