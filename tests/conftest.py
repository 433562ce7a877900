"""Shared fixtures: a real local AYON server on a loopback port and an isolated launcher env."""

from __future__ import annotations

import os
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


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
