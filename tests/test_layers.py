"""Dependencies point down: the layers below the commands and the GUI never import them.

Read from the sources with ``ast`` (every import statement, at module level or inside a
function, and ``importlib.import_module("...")`` calls), so a lazy import counts as much as
one at the top: the bootstrapper's connection, distribution and self-update, the pipeline's
add-ons, environment and publish modules and the support modules must never know that Qt, the
command line or the local server exist. What they need from above (the login dialog) the
caller passes in.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ayon_launcher.gui.display import LOGIN_DIALOG_TEST_HOOK_ENV
from conftest import isolated_env, run_ayon
from failure_helpers import error_messages

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ayon_launcher"

# Below the commands and the GUI: the parts' inner layers and the support modules.
LOWER = ("bootstrapper/connection", "bootstrapper/distribution", "bootstrapper/selfupdate",
         "bootstrapper/bootstrap.py", "bootstrapper/warmstart.py", "bootstrapper/context.py",
         "bootstrapper/runtime.py", "bootstrapper/site_id.py", "bootstrapper/early_look.py",
         "bootstrapper/webaction.py", "bootstrapper/desktop_integration.py",
         "bootstrapper/ayon_root/app_launcher.py", "bootstrapper/ayon_root/version.py",
         "pipeline/environment", "pipeline/addons", "pipeline/publish", "support",
         "gui/display.py")
# The bootstrapper's top: the command line, and AYON_ROOT/start.py that runs it.
BOOTSTRAPPER_TOP = ("bootstrapper/cli", "bootstrapper/ayon_root/start.py")
# The pipeline's two entries (the hand-off to ayon-core, the built-in commands) sit beside the
# command line: what the bootstrap needs of a look at the bundle comes through early_look.py.
UPWARD = ("ayon_launcher.bootstrapper.cli", "ayon_launcher.pipeline.commands",
          "ayon_launcher.pipeline.handoff",
          "ayon_launcher.gui", "ayon_launcher.localserver",
          "qtpy", "PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6")
# The [server] extra (pyproject.toml): only the local server imports it.
SERVER_EXTRA = ("fastapi", "starlette", "uvicorn", "argon2", "graphql", "multipart",
                "python_multipart")
# The only modules outside localserver/ that may start it (after require_installed()).
LOCAL_SERVER_USERS = ("bootstrapper/cli/main.py",)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[:len(parent) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            # `from .. import gui`: the names may be modules.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) in ("import_module", "__import__") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def is_under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def sources(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        target = PACKAGE / root
        files += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return files


def test_the_layer_list_is_real():
    """Every name in LOWER exists: a moved module must not silently drop out of the check."""
    missing = [name for name in LOWER if not (PACKAGE / name).exists()]
    assert not missing, f"renamed or moved? update LOWER in this test: {missing}"
    assert len(sources(*LOWER)) > 40


def test_every_bootstrapper_module_has_a_layer():
    """A new module of the bootstrapper is checked as a lower layer unless it is listed as
    the top (the command line): none escapes the check by not being named."""
    placed = set(sources(*LOWER, *BOOTSTRAPPER_TOP, "bootstrapper/__init__.py",
                         "bootstrapper/ayon_root/__init__.py"))
    unplaced = [str(path.relative_to(PACKAGE)) for path in
                sorted((PACKAGE / "bootstrapper").rglob("*.py")) if path not in placed]
    assert not unplaced, f"add to LOWER (or BOOTSTRAPPER_TOP) in this test: {unplaced}"


def test_support_imports_nothing_of_the_launcher_above_it():
    """``support/`` is the bottom: of the launcher it imports only itself."""
    wrong = [f"{path.relative_to(PACKAGE)}:{line} imports {module}"
             for path in sources("support") for line, module in imported_modules(path)
             if is_under(module, ("ayon_launcher",))
             and not is_under(module, ("ayon_launcher.support",))]
    assert not wrong, "\n".join(wrong)


def test_the_bootstrapper_uses_only_the_pipelines_addons():
    """The bootstrap loads a bundle's add-ons (pipeline/addons); nothing below the command
    line knows the pipeline's environment or publish modules."""
    lower = [root for root in LOWER if root.startswith("bootstrapper/")]
    wrong = [f"{path.relative_to(PACKAGE)}:{line} imports {module}"
             for path in sources(*lower) for line, module in imported_modules(path)
             if is_under(module, ("ayon_launcher.pipeline",))
             and not is_under(module, ("ayon_launcher.pipeline.addons",))]
    assert not wrong, "\n".join(wrong)


def test_the_windows_import_no_command():
    """``gui/`` sits below the command line and the pipeline's entries: the commands open the
    windows, never the other way round (and no window starts the local server)."""
    top = ("ayon_launcher.bootstrapper.cli", "ayon_launcher.pipeline.commands",
           "ayon_launcher.pipeline.handoff", "ayon_launcher.localserver")
    wrong = [f"{path.relative_to(PACKAGE)}:{line} imports {module}"
             for path in sources("gui") for line, module in imported_modules(path)
             if is_under(module, top)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("root", LOWER)
def test_lower_layers_import_nothing_above_them(root):
    wrong = [f"{path.relative_to(PACKAGE)}:{line} imports {module}"
             for path in sources(root) for line, module in imported_modules(path)
             if is_under(module, UPWARD)]
    assert not wrong, "an upward import (pass what is needed in from the caller):\n" + \
        "\n".join(wrong)


def test_only_the_local_server_imports_its_web_stack():
    """The [server] extra may be missing: nothing but localserver/ imports it, and only the
    two commands that start the local server import localserver."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("localserver/"):
            continue
        for line, module in imported_modules(path):
            if is_under(module, SERVER_EXTRA) or (
                    is_under(module, ("ayon_launcher.localserver",))
                    and relative not in LOCAL_SERVER_USERS):
                wrong.append(f"{relative}:{line} imports {module}")
    common = PACKAGE.parent / "ayon_common"
    wrong += [f"ayon_common/{path.relative_to(common)}:{line} imports {module}"
              for path in sorted(common.rglob("*.py")) for line, module in imported_modules(path)
              if is_under(module, SERVER_EXTRA + ("ayon_launcher.localserver",))]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    """The parser resolves what the checks rely on: a relative import inside a function, a
    ``from .. import`` of a package and an ``importlib.import_module`` call."""
    fake = tmp_path / "ayon_launcher"
    (fake / "bootstrapper" / "connection").mkdir(parents=True)
    source = fake / "bootstrapper" / "connection" / "session.py"
    source.write_text("def f():\n    from ...gui.login_dialog import ask_login\n"
                      "    from .. import cli\n"
                      "    import importlib\n    importlib.import_module('qtpy.QtCore')\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = {module for _line, module in imported_modules(source)}
    assert {"ayon_launcher.gui.login_dialog", "ayon_launcher.bootstrapper.cli",
            "qtpy.QtCore"} <= found
    assert all(is_under(m, UPWARD) for m in ("ayon_launcher.gui.login_dialog",
                                               "ayon_launcher.bootstrapper.cli", "qtpy.QtCore"))


def test_the_command_line_hands_the_login_dialog_down(tmp_path, local_server):
    """``ayon login`` on a screen (offscreen, answered by the dialog's test hook) logs in
    through the Qt dialog the command line gives the connection layer; cancelled, exit 4."""
    env = isolated_env(tmp_path, local_server.url)
    done = run_ayon(["login"], {**env, LOGIN_DIALOG_TEST_HOOK_ENV:
                                f"admin:{local_server.admin_password}"})
    assert done.returncode == 0, done.stderr
    assert f"Logged in to {local_server.url} as admin." in done.stdout
    cancelled = run_ayon(["login"], {**env, LOGIN_DIALOG_TEST_HOOK_ENV: "cancel"})
    assert cancelled.returncode == 4
    # (Qt's offscreen plug-in adds its own notices on stderr.)
    assert error_messages([line for line in cancelled.stderr.splitlines()
                           if line.startswith("ayon")]) == ["ayon: error: login cancelled"]


def test_the_connection_layer_alone_never_loads_qt(tmp_path, local_server):
    """Called by a program that offers no login window, the connection layer asks nobody
    (no terminal here) and does not import Qt, even where a dialog could be shown."""
    code = (
        "import sys\n"
        "from ayon_launcher.bootstrapper.connection.session import resolve_session\n"
        "from ayon_launcher.bootstrapper.context import LauncherContext\n"
        "from ayon_launcher.support.errors import AuthenticationRequired\n"
        "try:\n"
        "    resolve_session(LauncherContext())\n"
        "except AuthenticationRequired as exc:\n"
        "    print('asked nobody:', exc)\n"
        "print('Qt loaded:', any(m in sys.modules for m in ('qtpy', 'PySide6')))\n")
    env = {**isolated_env(tmp_path, local_server.url),
           LOGIN_DIALOG_TEST_HOOK_ENV: f"admin:{local_server.admin_password}"}
    done = subprocess.run([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "asked nobody: a login is needed" in done.stdout
    assert "Qt loaded: False" in done.stdout
