"""Stands in for the user's browser command (BROWSER=...): hands the URL to the test.

Python's webbrowser runs it with the URL; it writes the URL to the file named by
BROWSER_HAND_OVER_FILE, where the test picks it up and opens it in the headless Chromium it
drives.
"""

import os
import sys
from pathlib import Path

target = Path(os.environ["BROWSER_HAND_OVER_FILE"])
target.with_suffix(".part").write_text(sys.argv[1])
target.with_suffix(".part").replace(target)
