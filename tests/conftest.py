"""Shared fixtures: a real local AYON server on a loopback port and an isolated launcher env."""

from __future__ import annotations

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
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
