"""TLS everywhere: a studio's own certificate authority and client certificates.

The embedded server's application runs behind real TLS on a loopback port, with a CA made in
the test (tests/tls_helpers.py). Without the CA every request fails with one line that names
the cause and the variable to set; with AYON_CA_FILE (or REQUESTS_CA_BUNDLE, SSL_CERT_FILE)
the login, the API and the downloads work; a server that asks for a client certificate gets
the one AYON_CERT_FILE names.
"""

from __future__ import annotations

import json

import pytest

from conftest import isolated_env, run_ayon
from failure_helpers import error_messages
from pty_helpers import run_ayon_pty
from tls_helpers import https_server, make_pki

UNTRUSTED = "TLS certificate not trusted (set AYON_CA_FILE)"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


USER, PASSWORD = "tls-artist", "Tls-Secr3t-Pass!"  # distinctive: a leak cannot hide


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pki):
    with https_server(tmp_path_factory.mktemp("tls-server"), pki) as server:
        server.store.create_user(USER, PASSWORD, full_name="A TLS artist")
        yield server


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory, pki):
    with https_server(tmp_path_factory.mktemp("mtls-server"), pki,
                      require_client_cert=True) as server:
        yield server


@pytest.fixture
def script(tmp_path):
    """A script that records the add-on folders it can import from, and the CA it was given."""
    path = tmp_path / "seen.py"
    path.write_text("import json, os, sys\n"
                    "json.dump({'ca': os.environ.get('REQUESTS_CA_BUNDLE'),"
                    " 'path': [p for p in sys.path if 'addons' in p]}, open(sys.argv[1], 'w'))\n")
    return path


def error_lines(text: str) -> list[str]:
    return error_messages([line for line in text.splitlines() if line.startswith("ayon: ")])


def test_untrusted_certificate_is_one_line_naming_the_variable(tmp_path, tls_server, script):
    env = {**isolated_env(tmp_path, tls_server.url), "AYON_API_KEY": tls_server.service_api_key}
    result = run_ayon(["--headless", str(script), str(tmp_path / "seen.json")], env)
    assert result.returncode == 3, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert UNTRUSTED in lines[0] and tls_server.url in lines[0]
    assert "SSLError" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "seen.json").exists()


@pytest.mark.parametrize("variable", ["AYON_CA_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_with_the_studio_ca_the_api_and_downloads_work(tmp_path, tls_server, pki, script,
                                                       variable):
    env = {**isolated_env(tmp_path, tls_server.url), "AYON_API_KEY": tls_server.service_api_key}
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        env.pop(name, None)  # the machine's own settings (often the public bundle) aside
    env[variable] = str(pki.ca)
    seen = tmp_path / "seen.json"
    result = run_ayon(["--headless", str(script), str(seen)], env)
    assert result.returncode == 0, result.stderr
    data = json.loads(seen.read_text())
    # The add-ons came down over TLS and are importable; children (requests, so ayon_api's
    # sessions too) get the CA.
    assert data["path"] and all(str(tmp_path / "local") in p for p in data["path"])
    assert data["ca"] == str(pki.ca)


@pytest.mark.parametrize("client_certificate", [False, True])
def test_warm_starts_over_tls_use_the_same_settings(tmp_path, tls_server, mtls_server, pki,
                                                    script, client_certificate):
    """The warm check (its own small client, not requests) asks over TLS with the studio CA,
    and with the client certificate a server requires; a second start is warm."""
    server = mtls_server if client_certificate else tls_server
    env = {**isolated_env(tmp_path, server.url), "AYON_API_KEY": server.service_api_key,
           "AYON_CA_FILE": str(pki.ca)}
    if client_certificate:
        env["AYON_CERT_FILE"] = str(pki.client)
    seen = tmp_path / "seen.json"
    log = tmp_path / "local" / "logs" / "ayon.log"
    for run in ("full", "warm"):
        result = run_ayon(["--headless", str(script), str(seen)], env)
        assert result.returncode == 0, result.stderr
        assert json.loads(seen.read_text())["path"]
        assert ("(warm start)" in log.read_text()) == (run == "warm")
    # Without the CA the warm check fails as the full bootstrap's would: the cause in words,
    # and the installed bundle starts offline.
    env.pop("AYON_CA_FILE")
    result = run_ayon(["--headless", str(script), str(seen)], env)
    assert result.returncode == 0, result.stderr
    assert f"({UNTRUSTED}): starting OFFLINE" in result.stderr, result.stderr
    assert "SSLError" not in result.stderr and "Traceback" not in result.stderr


def test_password_login_over_tls_with_the_studio_ca(tmp_path, tls_server, pki):
    env = {**isolated_env(tmp_path, tls_server.url), "AYON_CA_FILE": str(pki.ca)}
    result = run_ayon_pty(["login"], env, [("User name", USER), ("Password", PASSWORD)])
    assert result.returncode == 0, result.output
    assert f"Logged in to {tls_server.url} as {USER}" in result.output
    assert PASSWORD not in result.output


def test_login_without_the_ca_says_what_to_set(tmp_path, tls_server):
    env = isolated_env(tmp_path, tls_server.url)
    result = run_ayon_pty(["login"], env, [("User name", USER), ("Password", PASSWORD)])
    assert result.returncode == 3, result.output
    assert UNTRUSTED in result.output
    assert "SSLError" not in result.output and "Traceback" not in result.output


def test_a_missing_ca_file_is_bad_input(tmp_path, tls_server, script):
    env = {**isolated_env(tmp_path, tls_server.url), "AYON_API_KEY": tls_server.service_api_key,
           "AYON_CA_FILE": str(tmp_path / "nope.pem")}
    result = run_ayon(["--headless", str(script), str(tmp_path / "seen.json")], env)
    assert result.returncode == 2, result.stderr
    assert error_lines(result.stderr) == [
        f"ayon: error: AYON_CA_FILE names no file: {tmp_path / 'nope.pem'} "
        "(it must name a PEM file)"]


def test_client_certificate_required_by_the_server(tmp_path, mtls_server, pki, script):
    env = {**isolated_env(tmp_path, mtls_server.url),
           "AYON_API_KEY": mtls_server.service_api_key, "AYON_CA_FILE": str(pki.ca)}
    seen = tmp_path / "seen.json"
    without = run_ayon(["--headless", str(script), str(seen)], env)
    assert without.returncode == 3, without.stderr
    lines = error_lines(without.stderr)
    assert len(lines) == 1 and "client certificate, set AYON_CERT_FILE" in lines[0], lines
    assert not seen.exists()

    with_cert = run_ayon(["--headless", str(script), str(seen)],
                         {**env, "AYON_CERT_FILE": str(pki.client)})
    assert with_cert.returncode == 0, with_cert.stderr
    assert json.loads(seen.read_text())["path"]


def test_http_source_downloads_use_the_tls_settings(tmp_path, tls_server, pki, monkeypatch):
    """An add-on archive on an https host (an "http" source, not the AYON server itself)."""
    import hashlib

    import requests

    from ayon_launcher.bootstrapper.distribution.models import DistItem, HttpSource
    from ayon_launcher.bootstrapper.distribution.sources import FetchSettings, SourceError, fetch

    url = f"{tls_server.url}/"  # the front page: the same bytes on every request
    body = requests.get(url, verify=str(pki.ca), timeout=10).content
    item = DistItem("addon", "tls_demo", "1.0.0", hashlib.sha256(body).hexdigest(), "sha256",
                    [HttpSource(url)], tmp_path / "target")
    monkeypatch.delenv("AYON_CA_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(SourceError) as failed:
        fetch(item, item.sources[0], tmp_path / "without.zip", FetchSettings(retries=1))
    assert failed.value.kind == "tls" and UNTRUSTED in str(failed.value)

    monkeypatch.setenv("AYON_CA_FILE", str(pki.ca))
    fetched = fetch(item, item.sources[0], tmp_path / "with.zip", FetchSettings(retries=1))
    assert fetched.checksum == item.checksum and (tmp_path / "with.zip").read_bytes() == body
