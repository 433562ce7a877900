"""Local server: auth, bundles, add-ons, dependency packages, settings and error answers."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import ayon_api
import pytest
import requests
from ayon_api.exceptions import AuthenticationError

from ayon_launcher.localserver.addon_packages import build_addon_package
from ayon_launcher.localserver.seed import DEMO_ADDONS_DIR, platform_name


def _con(server) -> ayon_api.ServerAPI:
    con = ayon_api.ServerAPI(server.url)
    con.login(server.admin_user, server.admin_password)
    return con


def _auth(con: ayon_api.ServerAPI) -> dict[str, str]:
    return {"Authorization": f"Bearer {con.access_token}"}


# -- auth -------------------------------------------------------------------------------------
def test_info_and_front_page_without_login(local_server):
    # As the real server: anonymous /api/info holds the version and uptime only; "/" is the
    # web front-end's page (ayon_api wants it to answer 200); there is no JSON /api health.
    info = requests.get(f"{local_server.url}/api/info", timeout=5).json()
    assert set(info) == {"version", "uptime"}
    front = requests.get(f"{local_server.url}/", timeout=5)
    assert front.status_code == 200 and front.headers["content-type"].startswith("text/html")
    response = requests.get(f"{local_server.url}/api/", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"code": 404, "detail": "API endpoint /api/ not found",
                               "path": "/api/"}


def test_login_and_user(local_server):
    con = _con(local_server)
    assert con.get_user()["name"] == "admin"
    assert con.is_service_user() is False
    info = requests.get(f"{local_server.url}/api/info", headers=_auth(con), timeout=5).json()
    assert info["user"]["name"] == "admin"
    assert "passwordHash" not in str(info)


def test_wrong_password_is_403(local_server):
    # The real server answers a wrong password with 403 (not 401).
    response = requests.post(f"{local_server.url}/api/auth/login",
                             json={"name": "admin", "password": "wrong"}, timeout=5)
    assert response.status_code == 403
    assert response.json() == {"code": 403, "detail": "Invalid login/password combination"}
    with pytest.raises(AuthenticationError):
        ayon_api.ServerAPI(local_server.url).login("admin", "wrong")


def test_service_api_key(local_server):
    con = ayon_api.ServerAPI(local_server.url, token=local_server.service_api_key)
    assert con.is_service_user() is True
    assert con.get_user()["name"] == "service"
    # The key is not a session token.
    response = requests.get(f"{local_server.url}/api/users/me", timeout=5,
                            headers={"Authorization": f"Bearer {local_server.service_api_key}"})
    assert response.status_code == 401


def test_unknown_token_is_401_json(local_server):
    # The real server's answers for a session it does not know, a bad key, no credentials.
    for headers, detail in (({"Authorization": "Bearer " + "0" * 64}, "Invalid session"),
                            ({"x-api-key": "nope"}, "Invalid API key"),
                            ({}, "Access token is missing")):
        response = requests.get(f"{local_server.url}/api/bundles", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {"code": 401, "detail": detail}


def test_logout_revokes_token(local_server):
    con = _con(local_server)
    headers = _auth(con)
    con.logout()
    response = requests.get(f"{local_server.url}/api/users/me", headers=headers, timeout=5)
    assert response.status_code == 401


def test_expired_token_is_401(fresh_server):
    from ayon_launcher.localserver.store import secret_digest

    con = _con(fresh_server)
    headers = _auth(con)
    assert requests.get(f"{fresh_server.url}/api/users/me", headers=headers,
                        timeout=5).status_code == 200
    # The token's lifetime runs out on the server (no test waits on the clock).
    digest = secret_digest(con.access_token)
    record = fresh_server.store.get("token", digest)
    fresh_server.store.put("token", digest, {**record, "expires": 0})
    assert requests.get(f"{fresh_server.url}/api/users/me", headers=headers,
                        timeout=5).status_code == 401


def test_revoked_api_key_is_401(fresh_server):
    key = fresh_server.create_api_key("service")
    assert ayon_api.ServerAPI(fresh_server.url, token=key).is_service_user()
    assert fresh_server.revoke_api_key(key)
    response = requests.get(f"{fresh_server.url}/api/users/me", headers={"x-api-key": key},
                            timeout=5)
    assert response.status_code == 401
    assert not ayon_api.ServerAPI(fresh_server.url, token=key).has_valid_token


def test_malformed_json_is_400(local_server):
    con = _con(local_server)
    for path in ("/api/auth/login", "/api/bundles"):
        response = requests.post(f"{local_server.url}{path}", data="{not json",
                                 headers=_auth(con), timeout=5)
        assert response.status_code == 400, path
        body = response.json()
        assert body["code"] == 400 and body["path"] == path
        assert body["detail"] == f"Request validation error in [POST] {path}"
    # The real GraphQL router answers in plain text.
    response = requests.post(f"{local_server.url}/graphql", data="{not json",
                             headers=_auth(con), timeout=5)
    assert response.status_code == 400
    assert response.text == "Unable to parse request body as JSON"


def test_unknown_route_is_json_404(local_server):
    response = requests.get(f"{local_server.url}/api/nothing/here", timeout=5)
    assert response.status_code == 404
    assert response.json()["code"] == 404


# -- bundles and add-ons --------------------------------------------------------------------------
def test_demo_bundles(local_server):
    bundles = _con(local_server).get_bundles()
    assert bundles["productionBundle"] == "demo_production"
    assert bundles["stagingBundle"] == "demo_staging"
    by_name = {b["name"]: b for b in bundles["bundles"]}
    assert by_name["demo_production"]["addons"]["demo_tools"] == "1.0.0"
    assert by_name["demo_staging"]["addons"]["demo_tools"] == "1.1.0"
    package = by_name["demo_production"]["dependencyPackages"][platform_name()]
    assert package.endswith(".zip")


def test_every_demo_addon_folder_is_in_bundles(local_server):
    names = {p.name for p in DEMO_ADDONS_DIR.iterdir() if (p / "package.py").is_file()}
    bundles = _con(local_server).get_bundles()["bundles"]
    for bundle in bundles:
        if bundle["name"] in {"demo_production", "demo_staging"}:
            assert names <= set(bundle["addons"])


def test_addon_listing_and_client_download(local_server, tmp_path):
    con = _con(local_server)
    addons = {a["name"]: a for a in con.get_addons_info()["addons"]}
    demo = addons["demo_tools"]
    assert demo["productionVersion"] == "1.0.0" and demo["stagingVersion"] == "1.1.0"
    info = demo["versions"]["1.1.0"]
    assert info["clientSourceInfo"] == [{"type": "server", "filename": "client.zip"}]
    # As the real server: no checksum and no size for an add-on's client archive.
    assert not {"checksum", "checksumAlgorithm", "size", "hash"} & set(info)
    path = con.download_addon_private_file("demo_tools", "1.1.0", "client.zip", str(tmp_path))
    with zipfile.ZipFile(path) as zf:
        assert "ayon_demo_tools/addon.py" in zf.namelist()
        assert '"1.1.0"' in zf.read("ayon_demo_tools/version.py").decode()


def test_bundle_create_update_delete(fresh_server):
    con = _con(fresh_server)
    con.create_bundle("mine", {"demo_tools": "1.1.0"}, "1.0.0",
                      dependency_packages={"linux": "a.zip"}, is_production=True)
    bundles = con.get_bundles()
    assert bundles["productionBundle"] == "mine"
    assert not next(b for b in bundles["bundles"] if b["name"] == "demo_production")[
        "isProduction"]
    con.update_bundle("mine", dependency_packages={"linux": None, "windows": "w.zip"},
                      is_production=False, is_staging=True)
    bundles = con.get_bundles()
    mine = next(b for b in bundles["bundles"] if b["name"] == "mine")
    # The real server replaces the whole mapping (a platform set to None stays listed).
    assert mine["dependencyPackages"] == {"linux": None, "windows": "w.zip"}
    assert bundles["stagingBundle"] == "mine" and bundles["productionBundle"] is None
    con.delete_bundle("mine")
    assert "mine" not in {b["name"] for b in con.get_bundles()["bundles"]}
    response = requests.post(f"{fresh_server.url}/api/bundles", json={"name": "demo_staging",
                             "addons": {}}, headers=_auth(con), timeout=5)
    assert response.status_code == 409


def test_upload_addon_zip(fresh_server, tmp_path):
    con = _con(fresh_server)
    package = tmp_path / "demo_tools-2.0.0.zip"
    package.write_bytes(build_addon_package(DEMO_ADDONS_DIR / "demo_tools", version="2.0.0"))
    result = con.upload_addon_zip(str(package))
    assert result["eventId"]
    versions = {a["name"]: a for a in con.get_addons_info()["addons"]}["demo_tools"]["versions"]
    assert "2.0.0" in versions
    path = con.download_addon_private_file("demo_tools", "2.0.0", "client.zip", str(tmp_path))
    with zipfile.ZipFile(path) as zf:
        assert '"2.0.0"' in zf.read("ayon_demo_tools/version.py").decode()


def _zip_with(member: str, data: bytes = b"x", symlink: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("package.py", 'name = "evil"\nversion = "1.0.0"\n')
        info = zipfile.ZipInfo(member)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize("archive", [
    _zip_with("client/../../escape.py"),
    _zip_with("/etc/absolute.py"),
    _zip_with("client/evil/link", b"/etc/passwd", symlink=True),
    _zip_with("private/client.zip", _zip_with("../outside.py")),
    b"not a zip at all",
], ids=["dotdot", "absolute", "symlink", "nested-client-zip", "not-zip"])
def test_unsafe_addon_upload_is_rejected(fresh_server, archive):
    con = _con(fresh_server)
    response = requests.post(f"{fresh_server.url}/api/addons/install", data=archive,
                             headers={**_auth(con), "Content-Type": "application/octet-stream"},
                             timeout=5)
    assert response.status_code == 400
    assert response.json()["code"] == 400
    names = {a["name"] for a in con.get_addons_info()["addons"]}
    assert "evil" not in names
    assert not (fresh_server.data_dir / "escape.py").exists()


def test_dependency_packages(fresh_server, tmp_path):
    con = _con(fresh_server)
    packages = con.get_dependency_packages()["packages"]
    demo = next(p for p in packages if p["platform"] == platform_name())
    path = con.download_dependency_package(demo["filename"], str(tmp_path), "dep.zip")
    data = Path(path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == demo["checksum"]
    with zipfile.ZipFile(path) as zf:
        assert "dependencies/ayon_demo_deps/__init__.py" in zf.namelist()
    # Create + upload as ayon_api does; the real server wants the manifest before the file.
    new = tmp_path / "new_deps.zip"
    new.write_bytes(data)
    con.create_dependency_package("new_deps.zip", {}, {}, "1.0.0",
                                  hashlib.sha256(data).hexdigest(), "sha256", len(data))
    con.upload_dependency_package(str(new), "new_deps.zip")
    listed = {p["filename"]: p for p in con.get_dependency_packages()["packages"]}
    assert listed["new_deps.zip"]["size"] == len(data)
    response = requests.put(f"{fresh_server.url}/api/desktop/dependencyPackages/bad.zip",
                            data=data, headers=_auth(con), timeout=5)
    assert response.status_code == 404
    assert response.json() == {"code": 404, "detail": "Dependency package bad.zip not found"}
    assert "bad.zip" not in {p["filename"] for p in con.get_dependency_packages()["packages"]}


def test_installers_list(local_server):
    assert _con(local_server).get_installers() == {"installers": []}


# -- settings ---------------------------------------------------------------------------------
def test_settings(fresh_server):
    con = _con(fresh_server)
    studio = con.get_addons_settings()
    assert studio["demo_tools"]["greeting"] == "Hello from demo_tools"
    staging = con.get_bundle_settings(variant="staging")
    assert staging["bundleName"] == "demo_staging"
    versions = {addon["name"]: addon["version"] for addon in staging["addons"]}
    assert versions["demo_tools"] == "1.1.0"
    named = con.get_addons_studio_settings(bundle_name="demo_staging", only_values=False)
    assert named["bundleName"] == "demo_staging"
    assert con.get_addon_studio_settings("demo_tools", "1.0.0")["tray_label"] == "Say hello"
    project = con.get_addon_project_settings("demo_tools", "1.0.0", "demo_Commercial")
    assert project["project_greeting"].startswith("Hello from the project")
    assert project["greeting"] == "Hello from demo_tools"
    con.set_addon_studio_settings("demo_tools", "1.0.0", {"greeting": "Changed"})
    assert con.get_addon_settings("demo_tools", "1.0.0")["greeting"] == "Changed"
    assert con.get_addon_settings("demo_tools", "1.0.0", variant="staging")["greeting"] != \
        "Changed"
    response = requests.get(f"{fresh_server.url}/api/addons/demo_tools/1.0.0/settings/nope",
                            headers=_auth(con), timeout=5)
    assert response.status_code == 404
    response = requests.get(f"{fresh_server.url}/api/settings?bundle_name=missing",
                            headers=_auth(con), timeout=5)
    assert response.status_code == 404


def test_bad_query_parameter_is_400_json(local_server):
    # The real server answers request validation errors with 400 (not FastAPI's 422).
    con = _con(local_server)
    response = requests.get(f"{local_server.url}/api/addons?details=maybe",
                            headers=_auth(con), timeout=5)
    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert response.json()["detail"] == "Request validation error in [GET] /api/addons"


def test_internal_error_is_json_without_traceback(fresh_server, monkeypatch):
    con = _con(fresh_server)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    # Simulates a storage failure, which cannot be provoked through the API itself.
    monkeypatch.setattr(fresh_server.store, "list", broken)
    response = requests.get(f"{fresh_server.url}/api/bundles", headers=_auth(con), timeout=5)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": 500}
    assert "Traceback" not in response.text and "secret internals" not in response.text


def test_stop_and_start_keep_url_and_data(fresh_server):
    url = fresh_server.url
    fresh_server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/info", timeout=2)
    fresh_server.start()
    assert fresh_server.url == url
    assert _con(fresh_server).get_bundles()["productionBundle"] == "demo_production"
