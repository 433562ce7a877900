"""Test-only publish plug-in: interrupts a publish where $AYON_TEST_PUBLISH_CRASH says."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pyblish.api

# "staging:N"   SIGKILL at the N-th file the integrator stages (the earlier ones are staged)
# "placed"      SIGKILL once the files are placed, before the batch reaches the server
# "applied"     SIGKILL right after the server applied the batch (its journal is still there)
# "lost-reply"  the server applies the batch, then the call fails as if the reply was lost
# "not-sent"    the call fails before the batch reaches the server
# "unreachable" like "not-sent", and asking the server afterwards fails too
# "wait:DIR"    after the integrator: create DIR/ready, wait for DIR/go (a live publish)
MODE_ENV = "AYON_TEST_PUBLISH_CRASH"


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _lost(*_args: Any, **_kwargs: Any) -> Any:
    # What a dropped connection raises from inside ayon_api's HTTP call.
    import requests

    raise requests.exceptions.ConnectionError("Connection aborted (test: reply lost)")


class CrashForTests(pyblish.api.ContextPlugin):
    """Wrap the transaction or the server connection to fail at one chosen moment."""

    label = "Crash for tests"
    order = pyblish.api.ValidatorOrder + 0.45  # after validation, before the integrator

    def process(self, context: pyblish.api.Context) -> None:
        mode = os.environ.get(MODE_ENV, "")
        transaction = context.data["ayonTransaction"]
        api = transaction.api
        send = api.send_batch_operations
        if mode.startswith("staging:"):
            add_file = transaction.add_file
            calls = []

            def add_file_then_die(source: Any, destination: Any) -> Any:
                calls.append(destination)
                if len(calls) == int(mode.split(":")[1]):
                    _kill()
                return add_file(source, destination)

            transaction.add_file = add_file_then_die
        elif mode == "placed":
            api.send_batch_operations = lambda *a, **k: _kill()
        elif mode == "applied":
            def send_then_die(*args: Any, **kwargs: Any) -> Any:
                send(*args, **kwargs)
                _kill()

            api.send_batch_operations = send_then_die
        elif mode == "lost-reply":
            def send_then_lose(*args: Any, **kwargs: Any) -> Any:
                send(*args, **kwargs)
                _lost()

            api.send_batch_operations = send_then_lose
        elif mode in {"not-sent", "unreachable"}:
            api.send_batch_operations = _lost
            if mode == "unreachable":
                api.get_versions = _lost


class WaitForTests(pyblish.api.ContextPlugin):
    """Keep a publish alive with its files staged until the test says go."""

    label = "Wait for tests"
    order = pyblish.api.IntegratorOrder + 0.4

    def process(self, context: pyblish.api.Context) -> None:
        mode = os.environ.get(MODE_ENV, "")
        if not mode.startswith("wait:"):
            return
        folder = Path(mode.split(":", 1)[1])
        (folder / "ready").write_text(context.data["ayonTransaction"].id)
        deadline = time.monotonic() + 120  # never hang the test run
        while not (folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
