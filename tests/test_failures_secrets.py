"""Failure suite, secrets: no token, password or API key in any log output at debug level.

tests/test_core_cli.py scans a terminal login and script runs; these scan the other paths,
at ``--debug --verbose debug``, mostly where things go wrong (that is where messages quote
URLs, headers and server answers): downloads, offline starts, refused keys, bad inputs,
extractenvironments and publish; and download sources whose URL or headers carry secrets.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.models import DistItem, HttpSource, addon_dir
from ayon_launcher.bootstrapper.distribution.sources import FetchSettings
from ayon_launcher.bootstrapper.distribution.sync import sync_items
from ayon_launcher.support.errors import DistributionError
from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy

DEBUG = ["--debug", "--verbose", "debug"]


@pytest.fixture
def proxy(fresh_server):
    fault = FaultProxy(fresh_server.url)
    yield fault
    fault.close()


def scan(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked in: {text[:300]}"


def test_no_secret_in_debug_output_of_failing_and_working_commands(tmp_path, fresh_server,
                                                                   proxy):
    # A session token used as AYON_API_KEY (as a farm job gets it from its submitter), plus
    # the service key and the admin password, all distinctive strings.
    token = fresh_server.login_token()
    secrets = [token, fresh_server.service_api_key, fresh_server.admin_password * 2]
    env = isolated_env(tmp_path, proxy.url)
    env.update(AYON_API_KEY=token, AYON_LAUNCHER_DOWNLOAD_RETRIES="3",
               AYON_LAUNCHER_DOWNLOAD_TIMEOUT="1", AYON_SERVER_TIMEOUT="2")
    outputs: list[str] = []

    def ayon(*args: str, **extra: str) -> int:
        done = run_ayon([*DEBUG, "--headless", *args], {**env, **extra})
        outputs.append(done.stdout + done.stderr)
        return done.returncode

    # First start: the download of every archive is cut once (retried, logged at debug).
    proxy.fail("/private/client.zip", "reset", times=2)
    assert ayon("addon", "demo_tools", "hello") == 0, outputs[-1]
    assert "DEBUG" in outputs[-1]  # the debug logs really were on
    out = tmp_path / "env.json"
    assert ayon("extractenvironments", str(out), "--project", "demo_Commercial", "--asset",
                "robot", "--task", "modeling", "--app", "maya/2024") == 0, outputs[-1]
    # Failures: server errors (offline start), unknown names, bad metadata, refused key.
    proxy.fail("/api/bundles", "500", times=1)
    assert ayon("addon", "demo_tools", "hello") == 0, outputs[-1]
    assert "OFFLINE" in outputs[-1]
    assert ayon("extractenvironments", str(out), "--project", "nope", "--asset", "robot",
                "--task", "modeling", "--app", "maya/2024") != 0
    (tmp_path / "bad.json").write_text('{"project": 1}')
    assert ayon("publish", str(tmp_path / "bad.json")) != 0
    assert ayon("--bundle", "missing", "addon", "demo_tools", "hello") != 0
    assert ayon("addon", "demo_tools", "hello", AYON_API_KEY="not-" + token) == 4
    fresh_server.revoke_api_key(fresh_server.service_api_key)
    assert ayon("addon", "demo_tools", "hello",
                AYON_API_KEY=fresh_server.service_api_key) == 4
    scan(outputs, secrets)
    # The launcher's own files hold no secret either (the environment file does, by design:
    # children need AYON_API_KEY).
    for path in (tmp_path / "local").rglob("*.json"):
        scan([path.read_text(errors="replace")], secrets)


def _client_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("secret_pkg/__init__.py", "")
    return buffer.getvalue()


class StaticFiles:
    """A loopback server answering every GET with ``data``, the first one with HTTP 500."""

    def __init__(self, data: bytes) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                owner.requests.append(self.path)
                first = len(owner.requests) == 1
                body = b"oops" if first else data
                self.send_response(500 if first else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_source_url_and_header_secrets_stay_out_of_logs_and_metadata(tmp_path, monkeypatch,
                                                                     caplog):
    """An http source may carry credentials (``user:password@``, a signed ``?token=``, an
    auth header): messages, logs and the item's metadata name the source without them."""
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    data = _client_zip()
    password, signed, header = "Pa55-in-url-77", "sig-in-query-88", "hdr-secret-99"
    files = StaticFiles(data)
    try:
        url = f"http://bob:{password}@127.0.0.1:{files.port}/pkg/secret.zip?token={signed}"
        item = DistItem(kind="addon", name="secret", version="1.0.0",
                        checksum=hashlib.sha256(data).hexdigest(), algorithm="sha256",
                        sources=[HttpSource(url, headers=(("X-Secret", header),))],
                        target=addon_dir("secret", "1.0.0"))
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger="ayon_launcher")
        sync_items([item], FetchSettings(retries=2, backoff=0.01))  # 500, retry, success
        # And a source that keeps failing: the final error names it, without its secrets.
        broken = DistItem(kind="addon", name="broken", version="1.0.0", checksum="0" * 64,
                          algorithm="sha256", sources=item.sources,
                          target=addon_dir("broken", "1.0.0"))
        with pytest.raises(DistributionError) as info:
            sync_items([broken], FetchSettings(retries=1, backoff=0.01))
    finally:
        files.close()
    assert files.requests[0] == f"/pkg/secret.zip?token={signed}"  # the URL was really used
    launcher_logs = [r.getMessage() for r in caplog.records if r.name.startswith("ayon_launcher")]
    assert any("HTTP 500" in message for message in launcher_logs)
    assert "127.0.0.1" in str(info.value) and "checksum mismatch" in str(info.value)
    meta = store.read_metadata(item.target)
    assert meta["source"] == f"http:http://127.0.0.1:{files.port}/pkg/secret.zip"
    scan([str(info.value), *launcher_logs, json.dumps(meta)], [password, signed, header])
