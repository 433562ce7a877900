"""The two test servers behind one interface: the same demo seed, the same admin calls."""

from __future__ import annotations

import requests

from ayon_launcher.localserver import seed


def _get(server, path: str, **headers: str) -> requests.Response:
    return requests.get(server.url + path, headers=headers, timeout=30)


def test_demo_seed_is_the_same_on_both(any_server):
    bundles = {b["name"]: b for b in any_server.bundles()}
    production = bundles[seed.PRODUCTION_BUNDLE]
    staging = bundles[seed.STAGING_BUNDLE]
    assert production["isProduction"] and not production.get("isStaging")
    assert staging["isStaging"] and staging["addons"]["demo_tools"] == "1.1.0"
    assert production["addons"] == {"applications": "1.0.0", "demo_tools": "1.0.0"}
    dev = bundles["demo_dev"]
    assert dev["isDev"] and dev["activeUser"] == "admin"
    packages = _get(any_server, "/api/desktop/dependencyPackages",
                    **{"x-api-key": any_server.service_api_key}).json()["packages"]
    assert [p["filename"] for p in packages] == list(production["dependencyPackages"].values())
    project = _get(any_server, f"/api/projects/{seed.DEMO_PROJECT}",
                   **{"x-api-key": any_server.service_api_key})
    assert project.status_code == 200 and project.json()["code"] == "demo"


def test_addon_settings_studio_and_project(any_server):
    studio = any_server.addon_settings("demo_tools", "1.0.0")
    project = any_server.addon_settings("demo_tools", "1.0.0", project=seed.DEMO_PROJECT)
    assert studio["greeting"] == "Hello from demo_tools"
    assert project["greeting"] == "Hello from demo_tools"
    assert project["project_greeting"].startswith("Hello from the project settings")
    apps = any_server.addon_settings("applications", "1.0.0")
    assert [v["name"] for v in apps["applications"]["maya"]["variants"]] == ["2024", "2025"]


def test_client_archive_served_without_api_prefix(any_server):
    key = {"x-api-key": any_server.service_api_key}
    addons = _get(any_server, "/api/addons?details=1", **key).json()["addons"]
    tools = next(a for a in addons if a["name"] == "demo_tools")
    source = tools["versions"]["1.0.0"]["clientSourceInfo"][0]
    assert source["type"] == "server" and source["filename"] == "client.zip"
    archive = _get(any_server, "/addons/demo_tools/1.0.0/private/client.zip", **key)
    assert archive.status_code == 200 and archive.content[:2] == b"PK"


def test_login_token_and_revoke(any_server):
    token = any_server.login_token()
    assert any_server.token_is_valid(token)
    any_server.revoke_token(token)
    assert not any_server.token_is_valid(token)


def test_users_and_api_keys(any_server):
    any_server.create_user("harness_artist", "secret-pw")
    token = any_server.login_token("harness_artist")
    me = _get(any_server, "/api/users/me", Authorization=f"Bearer {token}").json()
    assert me["name"] == "harness_artist"
    # The real server gives API keys to service users only.
    any_server.create_user("harness_robot", None, is_service=True)
    key = any_server.create_api_key("harness_robot")
    assert key == key.lower() and int(key, 16) >= 0
    assert _get(any_server, "/api/users/me", **{"x-api-key": key}).json()["name"] \
        == "harness_robot"


def test_bundle_create_update_delete(any_server):
    # Only a dev bundle's add-ons can be changed (the real server ignores it on others).
    any_server.create_user("harness_dev", "dev-pw")
    any_server.create_bundle("harness_named", {"demo_tools": "1.1.0"}, is_dev=True,
                             active_user="harness_dev")
    try:
        changed = any_server.update_bundle("harness_named", addons={"demo_tools": "1.0.0"})
        assert changed["addons"] == {"demo_tools": "1.0.0"}
    finally:
        assert any_server.delete_bundle("harness_named")
    assert "harness_named" not in {b["name"] for b in any_server.bundles()}
