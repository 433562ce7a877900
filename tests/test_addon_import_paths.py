"""Add-ons written against the old import paths get the very same modules from pipeline/."""

from __future__ import annotations

import subprocess
import sys


def test_old_addon_import_paths_are_the_same_modules_in_a_fresh_interpreter() -> None:
    # A fresh interpreter: the aliases must work for an add-on's first import, in any order.
    code = (
        "from ayon_launcher.addons import AYONAddon, TrayAction\n"
        "import ayon_launcher.addons.base as old_base\n"
        "from ayon_launcher.publish.api import sequence_frame\n"
        "import ayon_launcher.environment.applications as old_apps\n"
        "import ayon_launcher.pipeline.addons.base as base\n"
        "import ayon_launcher.pipeline.environment.applications as apps\n"
        "import ayon_launcher.pipeline.publish.api as api\n"
        "assert old_base is base and AYONAddon is base.AYONAddon, 'two copies of AYONAddon'\n"
        "assert old_apps is apps and sequence_frame is api.sequence_frame\n"
        "assert base.__spec__.name == 'ayon_launcher.pipeline.addons.base', base.__spec__.name\n"
        "try:\n"
        "    import ayon_launcher.addons.no_such_module\n"
        "except ModuleNotFoundError as exc:\n"
        "    print('missing:', exc.name)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "missing: ayon_launcher.pipeline.addons.no_such_module"


def test_the_finder_costs_no_heavy_import_at_start() -> None:
    # ayon_launcher/__init__ installs the finder on every start (farm scripts included): it
    # must not pull typing, importlib's machinery or re into a process that needs none.
    code = ("import sys\nimport ayon_launcher\n"
            "print(sorted(m for m in ('typing', 're', 'importlib.util', 'inspect') "
            "if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
