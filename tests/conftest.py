"""Shared fixtures: a real local AYON server on a loopback port and an isolated launcher env."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def local_server(tmp_path_factory):
    """A demo-seeded local server shared by the session (do not change its bundles)."""
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("server"), demo=True) as server:
        yield server


def pytest_report_header(config) -> str:
    """Say up front whether the real AYON server part of the suite runs, and why not."""
    from harness.real_server import backend_source, services_missing

    source, reason = backend_source()
    if source is None:
        return f"real AYON server: SKIPPED ({reason})"
    missing = services_missing()
    if missing:
        return f"real AYON server: SKIPPED ({missing})"
    return f"real AYON server: ayon-backend from {source}"


@pytest.fixture(scope="session")
def real_server(tmp_path_factory):
    """ynput's real AYON server (ayon-backend), demo-seeded over REST, once per session.

    Shared by the session like ``local_server``: tests make their own bundles/users and put
    back what they change.
    """
    from harness.real_server import backend_source, services_missing, start_real_server

    source, reason = backend_source()
    reason = reason or services_missing()
    if source is None or reason:
        print(f"\nreal AYON server skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)
    with start_real_server(tmp_path_factory.mktemp("real-server")) as server:
        yield server


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory):
    """The embedded server behind the real harness's interface, once per session."""
    from harness.embedded import start_embedded_server

    with start_embedded_server(tmp_path_factory.mktemp("embedded-server")) as server:
        yield server


@pytest.fixture(params=["embedded", "real"])
def any_server(request):
    """Each scenario runs against the embedded server and against ynput's real one."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A demo-seeded local server of one test's own, free to be changed."""
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("fresh-server"), demo=True) as server:
        yield server


def isolated_env(tmp_path: Path, server_url: str | None = None) -> dict[str, str]:
    """Environment for a launcher subprocess with its own folders and no keyring backend."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AYON_", "OPENPYPE_", "USE_AYON"))}
    env.update(
        AYON_LAUNCHER_LOCAL_DIR=str(tmp_path / "local"),
        AYON_LAUNCHER_CONFIG_DIR=str(tmp_path / "config"),
        # No keyring daemon here: force the private-file fallback unless a test sets another.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
    )
    if server_url:
        env["AYON_SERVER_URL"] = server_url
    return env


@pytest.fixture
def launcher_env(tmp_path, local_server) -> dict[str, str]:
    return isolated_env(tmp_path, local_server.url)


def run_ayon(args: list[str], env: dict[str, str], input: str | None = None,
             timeout: float = 120, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``ayon`` CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "ayon_launcher", *args],
        env=env, input=input, capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


_REFUSING: socket.socket | None = None


def start_tray_logging_in(tmp_path: Path, env: dict[str, str], server) -> dict:
    """``ayon`` with no command: the tray, logged in through the Qt login dialog (answered by
    its test hook as admin); what the tray showed once connected (its test snapshot)."""
    from ayon_launcher.gui.display import LOGIN_DIALOG_TEST_HOOK_ENV, TRAY_TEST_HOOK_ENV

    snapshot = tmp_path / "tray.json"
    env = {**env, TRAY_TEST_HOOK_ENV: f"snapshot:{snapshot}",
           LOGIN_DIALOG_TEST_HOOK_ENV: f"admin:{server.admin_password}"}
    done = run_ayon([], env)
    assert done.returncode == 0, done.stderr
    data = json.loads(snapshot.read_text())
    assert data["state"] == "connected" and data["user"] == "admin"
    return data


def dead_url() -> str:
    """A loopback URL that refuses connections for the whole session (a server that is down).

    The kernel picks the port (bind to port 0) and this process keeps the socket bound but
    never listening: nothing else can take the port, so no test races for it.
    """
    global _REFUSING
    if _REFUSING is None:
        _REFUSING = socket.socket()
        _REFUSING.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{_REFUSING.getsockname()[1]}"


@pytest.fixture
def script(tmp_path) -> Path:
    """A script that writes the server URL and key it was started with to ``argv[1]``."""
    path = tmp_path / "seen.py"
    path.write_text("import json, os, sys\n"
                    "json.dump({k: os.environ.get(k) for k in ('AYON_SERVER_URL', "
                    "'AYON_API_KEY')}, open(sys.argv[1], 'w'))\n")
    return path


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


def _skip_without_peers(*prefixes: str) -> None:
    """Skip (with the reason printed) when ynput's peer archives are not at hand."""
    from harness import studio

    missing = studio.missing_peers(*prefixes)
    if missing:
        reason = (f"needs {', '.join(f'{m}-*.tar.gz' for m in missing)} in ../shared/peers "
                  "(or AYON_PEERS_DIR)")
        print(f"SKIPPED: {reason}", file=sys.stderr)
        pytest.skip(reason)


def _write_timings(name: str, timings: dict[str, float]) -> None:
    import json

    ARTIFACTS_DIR.mkdir(exist_ok=True)
    path = ARTIFACTS_DIR / "build-timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = timings
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """A real AYON server of its own for the studio bundle, whose production bundle it becomes
    (``real_server`` keeps the demo bundles other tests rely on)."""
    _skip_without_peers("ayon-core", "ayon-applications")
    import time

    from harness.real_server import backend_source, services_missing, start_real_server

    source, reason = backend_source()
    reason = reason or services_missing()
    if source is None or reason:
        print(f"\nstudio server skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)
    started = time.monotonic()
    with start_real_server(tmp_path_factory.mktemp("studio-server")) as server:
        _write_timings("studio_server", {"start": round(time.monotonic() - started, 2)})
        yield server


@pytest.fixture(scope="session")
def studio_bundle(studio_server):
    """A real studio bundle (ayon-core + ayon-applications built by their create_package.py,
    a dependency package of their client requirements) as the production bundle of
    ``studio_server``, with a project, folder, task and an app variant whose executable is a
    small recording script (harness.studio.StudioBundle: names, server, paths of the zips)."""
    from harness import studio

    bundle = studio.install_studio_bundle(studio_server)
    _write_timings("studio_bundle", bundle.timings)
    return bundle


@pytest.fixture(scope="session")
def official_launcher():
    """ynput's official launcher from source with its Python 3.11 venv (harness.official)."""
    _skip_without_peers("ayon-launcher")
    from harness import official

    launcher = official.official_launcher()
    _write_timings("official_launcher", launcher.timings)
    return launcher
