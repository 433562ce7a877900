"""The embedded server is never more lenient than the real one.

The embedded server is never more lenient than the real one: its routes exist in ayon-backend
(read from the backend's own source), and the payloads the launcher reads have the real shapes."""

from __future__ import annotations

import ast
import re
import sys
import tempfile
from pathlib import Path

import ayon_api
import pytest
import requests

from ayon_launcher.localserver.app import create_app, route_table
from ayon_launcher.localserver.seed import DEMO_PROJECT, platform_name
from ayon_launcher.localserver.store import Store

_METHODS = {"get", "post", "put", "patch", "delete"}


# -- the real server's route table, from its source ------------------------------------------
def _skip(reason: str) -> None:
    print(f"SKIPPED: {reason}", file=sys.stderr)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def backend_source() -> Path:
    """ayon-backend's source, found (and unpacked once, cached) by the real-server harness:
    AYON_BACKEND_SOURCE or ../shared/peers/ayon-backend-*.tar.gz."""
    from harness.real_server import backend_source as find_source

    source, reason = find_source()
    if source is None:
        _skip(reason)
    return source


def _router_routes(files: list[Path], mount: str) -> set[tuple[str, str]]:
    """(method, path) of every ``@<router>.<method>("path")`` whose router is an
    ``APIRouter(prefix=...)`` assigned in the same files, mounted under ``mount``."""
    prefixes: dict[str, str] = {}
    decorated: list[tuple[str, str, str]] = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) == "APIRouter":
                prefix = next((kw.value.value for kw in node.value.keywords
                               if kw.arg == "prefix" and isinstance(kw.value, ast.Constant)), "")
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        prefixes[target.id] = prefix
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) \
                            and deco.func.attr in _METHODS \
                            and isinstance(deco.func.value, ast.Name) and deco.args \
                            and isinstance(deco.args[0], ast.Constant):
                        decorated.append((deco.func.value.id, deco.func.attr.upper(),
                                          deco.args[0].value))
    return {(method, mount + prefixes[router] + route)
            for router, method, route in decorated if router in prefixes}


def real_route_table(src: Path) -> set[tuple[str, str]]:
    """Every route of the real server: the REST plug-ins of ``api/`` (mounted at /api), the
    add-on file routes, GraphQL and the front-end page at "/"."""
    routes: set[tuple[str, str]] = set()
    for package in sorted(p for p in (src / "api").iterdir() if p.is_dir()):
        routes |= _router_routes(sorted(package.rglob("*.py")), "/api")
    routes |= _router_routes([src / "ayon_server" / "api" / "static.py"], "")
    server = (src / "ayon_server" / "api" / "server.py").read_text(encoding="utf-8")
    if re.search(r'include_router\(\s*graphql_router,\s*prefix="/graphql"', server):
        routes |= {("GET", "/graphql"), ("POST", "/graphql")}
    frontend = (src / "ayon_server" / "api" / "frontend.py").read_text(encoding="utf-8")
    if 'mount("/", FrontendFiles' in frontend:
        routes.add(("GET", "/"))
    return routes


def _template(path: str) -> str:
    return re.sub(r"\{[^}:]+(:path)?\}", "{}", path)


def test_every_embedded_route_exists_in_the_real_server(backend_source, tmp_path):
    real = {(method, _template(path)) for method, path in real_route_table(backend_source)}
    # The parse itself: routes the launcher uses must be found (a broken parse finds none).
    for needed in [("GET", "/api/bundles"), ("GET", "/api/addons"), ("POST", "/graphql"),
                   ("GET", "/addons/{}/{}/private/{}"), ("GET", "/api/settings"),
                   ("POST", "/api/projects/{}/operations"), ("GET", "/")]:
        assert needed in real, needed
    app = create_app(Store(tmp_path / "store"))
    embedded = route_table(app)
    assert len(embedded) > 30
    missing = sorted(f"{method} {path}" for method, path in embedded
                     if (method, _template(path)) not in real)
    assert not missing, "routes the real server does not have: " + ", ".join(missing)


def test_every_embedded_route_is_served_by_the_running_real_server(real_server, tmp_path):
    """The same check against a running ayon-backend: its /openapi.json, plus the routes it
    keeps out of the schema (GraphQL, add-on files, the front-end page), which answer there."""
    token = real_server.login_token()
    headers = {"Authorization": f"Bearer {token}"}
    schema = requests.get(f"{real_server.url}/openapi.json", headers=headers, timeout=30)
    assert schema.status_code == 200
    real = {(method.upper(), _template(path))
            for path, methods in schema.json()["paths"].items() for method in methods}
    hidden = {("POST", "/graphql"), ("GET", "/addons/{}/{}/private/{}"), ("GET", "/")}
    # Those three exist: they answer with something other than "no such route".
    assert requests.post(f"{real_server.url}/graphql", headers=headers, timeout=10,
                         json={"query": "{projects {edges {node {name}}}}"}).status_code == 200
    private = requests.get(f"{real_server.url}/addons/demo_tools/1.0.0/private/client.zip",
                           headers=headers, timeout=30)
    assert private.status_code == 200 and private.content[:2] == b"PK"
    assert requests.get(f"{real_server.url}/", timeout=10).status_code == 200
    embedded = route_table(create_app(Store(tmp_path / "store")))
    missing = sorted(f"{method} {path}" for method, path in embedded
                     if (method, _template(path)) not in real | hidden)
    assert not missing, "routes the real server does not have: " + ", ".join(missing)


def test_real_default_anatomy_shape_in_the_demo_project(backend_source, local_server):
    """The seed keeps templates as the backend's deploy_project stores them: the scalar fields
    of its anatomy Templates model under ``common``, named templates per category."""
    tree = ast.parse((backend_source / "ayon_server" / "settings" / "anatomy" / "templates.py")
                     .read_text(encoding="utf-8"))
    model = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Templates")
    scalar = {n.target.id for n in model.body if isinstance(n, ast.AnnAssign)
              and isinstance(n.annotation, ast.Name) and n.annotation.id in {"int", "str"}}
    assert scalar == {"version_padding", "version", "frame_padding", "frame"}

    con = ayon_api.ServerAPI(local_server.url, token=local_server.service_api_key)
    templates = con.get_project(DEMO_PROJECT)["config"]["templates"]
    assert set(templates["common"]) == scalar
    assert templates["common"]["version"] == "v{version:0>{@version_padding}}"
    assert not scalar & set(templates), "version/frame formats belong under 'common'"
    for category in ("work", "publish", "hero"):
        assert templates[category]["default"]["file"]
        assert "name" not in templates[category]["default"]
    assert "{@version}" in templates["publish"]["default"]["directory"]
    assert not {"delivery", "staging", "others"} & set(templates), "empty groups are absent"

    # GET .../anatomy answers the anatomy model: formats on top, named templates as lists.
    anatomy = con.get(f"projects/{DEMO_PROJECT}/anatomy").data
    assert anatomy["templates"]["version_padding"] == 3
    assert anatomy["templates"]["publish"][0]["name"] == "default"
    assert anatomy["templates"]["delivery"] == []
    assert anatomy["roots"][0]["name"] == "work"


# -- payload shapes the launcher reads ---------------------------------------------------------
def _admin(server) -> ayon_api.ServerAPI:
    con = ayon_api.ServerAPI(server.url)
    con.login(server.admin_user, server.admin_password)
    return con


def test_addon_listing_has_no_checksum_and_packages_do(local_server):
    con = _admin(local_server)
    addons = con.get("addons?details=1").data["addons"]
    assert addons
    for addon in addons:
        assert {"name", "title", "versions", "description", "addonType"} <= set(addon)
        for info in addon["versions"].values():
            assert not {"checksum", "checksumAlgorithm", "size", "hash"} & set(info)
            assert None not in info.values(), "the real listing leaves out what is None"
    plain = con.get("addons").data["addons"]
    assert all("clientSourceInfo" not in v for a in plain for v in a["versions"].values())
    package = con.get("desktop/dependencyPackages").data["packages"][0]
    assert package["checksum"] and package["checksumAlgorithm"] == "sha256"
    assert package["installerVersion"] and package["platform"] == platform_name()
    assert "createdAt" not in package


def test_bundles_carry_the_real_fields(local_server):
    listing = _admin(local_server).get("bundles").data
    assert set(listing) == {"bundles", "productionBundle", "stagingBundle", "devBundles"}
    for bundle in listing["bundles"]:
        assert set(bundle) == {"name", "createdAt", "addons", "installerVersion",
                               "dependencyPackages", "addonDevelopment", "isProduction",
                               "isStaging", "isArchived", "isDev", "isProject", "activeUser"}
        assert set(bundle["dependencyPackages"]) <= {"windows", "linux", "darwin"}


def test_bundle_check_as_the_real_server(fresh_server, tmp_path):
    from ayon_launcher.localserver.addon_packages import build_addon_package

    con = _admin(fresh_server)
    url = f"{fresh_server.url}/api/bundles"
    headers = {"Authorization": f"Bearer {con.access_token}"}
    # An add-on that declares ayon_launcher_version needs a bundle with installerVersion.
    folder = tmp_path / "needs_launcher"
    (folder / "client" / "needs_launcher").mkdir(parents=True)
    (folder / "client" / "needs_launcher" / "__init__.py").write_text('"""Test add-on."""\n')
    (folder / "package.py").write_text('name = "needs_launcher"\nversion = "1.0.0"\n'
                                       'ayon_launcher_version = ">=1.0.0"\n')
    package = tmp_path / "needs_launcher.zip"
    package.write_bytes(build_addon_package(folder))
    assert con.upload_addon_zip(str(package))["eventId"]
    response = requests.post(url, json={"name": "no_launcher",
                                        "addons": {"needs_launcher": "1.0.0"}},
                             headers=headers, timeout=5)
    assert response.status_code == 400
    assert response.json() == {
        "code": 400, "detail": "Failed to validate bundle: needs_launcher: Launcher is required"}
    response = requests.post(url, json={"name": "old_launcher", "installerVersion": "0.9.0",
                                        "addons": {"needs_launcher": "1.0.0"}},
                             headers=headers, timeout=5)
    assert response.status_code == 400 and "Launcher >=1.0.0 is required" in response.text
    response = requests.post(url, json={"name": "with_launcher", "installerVersion": "1.2.0",
                                        "addons": {"needs_launcher": "1.0.0"}},
                             headers=headers, timeout=5)
    assert response.status_code == 201 and response.content == b""
    # A version the server does not have, and a bundle without a name.
    response = requests.post(url, json={"name": "ghost", "addons": {"demo_tools": "9.9.9"}},
                             headers=headers, timeout=5)
    assert response.json() == {"code": 400, "detail": "Failed to validate bundle: demo_tools: "
                                                      "demo_tools 9.9.9 is not active"}
    response = requests.post(url, json={"addons": {}}, headers=headers, timeout=5)
    assert response.status_code == 400
    names = {b["name"] for b in con.get_bundles()["bundles"]}
    assert "with_launcher" in names and not {"no_launcher", "old_launcher", "ghost"} & names
    # Only admins create bundles.
    service = ayon_api.ServerAPI(fresh_server.url)
    fresh_server.store.create_user("artist", "secret")
    service.login("artist", "secret")
    response = requests.post(url, json={"name": "by_artist", "addons": {}}, timeout=5,
                             headers={"Authorization": f"Bearer {service.access_token}"})
    assert response.status_code == 403
    assert response.json() == {"code": 403, "detail": "Only admins can create bundles"}


@pytest.mark.parametrize("path", [
    "/api/projects/nope", "/api/projects/nope/anatomy", "/api/projects/nope/siteRoots",
    "/api/projects/nope/folders/" + "0" * 32,
])
def test_unknown_project_is_404(local_server, path):
    con = _admin(local_server)
    response = requests.get(local_server.url + path, timeout=5,
                            headers={"Authorization": f"Bearer {con.access_token}"})
    assert response.status_code == 404
    assert response.json() == {"code": 404, "detail": "Project nope not found"}


@pytest.mark.parametrize("method,path,status", [
    ("POST", "/api/graphql", 404),                       # GraphQL lives at /graphql only
    ("GET", "/api", 404),                                # no JSON health route
    ("GET", "/api/addons/demo_tools/1.0.0/private/client.zip", 404),  # no /api for files
    ("GET", f"/api/projects/{DEMO_PROJECT}/widgets/{'0' * 32}", 404),  # no catch-all type
    ("GET", f"/api/projects/{DEMO_PROJECT}/tasks/not-an-id", 400),
])
def test_routes_the_real_server_lacks_are_refused(local_server, method, path, status):
    con = _admin(local_server)
    response = requests.request(method, local_server.url + path, timeout=5,
                                headers={"Authorization": f"Bearer {con.access_token}"})
    assert response.status_code == status
    assert response.json()["code"] == status


def test_settings_without_a_bundle_is_404(tmp_path):
    from ayon_launcher.localserver.testing import start_test_server

    with tempfile.TemporaryDirectory(dir=tmp_path) as data, \
            start_test_server(data, demo=False) as server:
        con = _admin(server)
        response = requests.get(f"{server.url}/api/settings", timeout=5,
                                headers={"Authorization": f"Bearer {con.access_token}"})
        assert response.status_code == 404
        assert response.json()["detail"] == "Bundle not found"


def test_client_archive_errors_as_the_real_server(local_server):
    con = _admin(local_server)
    headers = {"Authorization": f"Bearer {con.access_token}"}
    base = f"{local_server.url}/addons"
    for path, detail in (("nope/1.0.0/private/client.zip", "Addon nope does not exist"),
                         ("demo_tools/1.0.0/private/other.zip", "File not found")):
        response = requests.get(f"{base}/{path}", headers=headers, timeout=5)
        assert response.status_code == 404 and response.json()["detail"] == detail
    response = requests.get(f"{base}/demo_tools/1.0.0/private/client.zip", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"code": 401, "detail": "Access token is missing"}


def test_launcher_installs_a_package_whose_source_names_no_file(fresh_server, tmp_path,
                                                               monkeypatch):
    """A dependency package registered as the real server allows it, ``sources: [{"type":
    "server"}]`` without a file name: the launcher downloads it by the package's own name."""
    import hashlib
    import io
    import zipfile

    from ayon_launcher.bootstrapper.distribution.distribute import distribute, fetch_bundle

    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("dependencies/nameless_mod.py", "VALUE = 1\n")
    data = data.getvalue()
    con = _admin(fresh_server)
    headers = {"Authorization": f"Bearer {con.access_token}"}
    response = requests.post(f"{fresh_server.url}/api/desktop/dependencyPackages", json={
        "filename": "nameless.zip", "platform": platform_name(), "size": len(data),
        "checksum": hashlib.sha256(data).hexdigest(), "checksumAlgorithm": "sha256",
        "installerVersion": "1.0.0", "sourceAddons": {}, "pythonModules": {},
        "sources": [{"type": "server"}]}, headers=headers, timeout=5)
    assert response.status_code == 201
    response = requests.put(f"{fresh_server.url}/api/desktop/dependencyPackages/nameless.zip",
                            data=data, headers=headers, timeout=5)
    assert response.status_code == 204
    listed = {p["filename"]: p for p in con.get_dependency_packages()["packages"]}
    assert listed["nameless.zip"]["sources"] == [{"type": "server"}]
    fresh_server.create_bundle("nameless", {"demo_tools": "1.0.0"},
                               {platform_name(): "nameless.zip"}, installer_version="1.0.0")
    api = ayon_api.ServerAPI(fresh_server.url, token=fresh_server.service_api_key)
    bundle = fetch_bundle(api, bundle_name="nameless", use_staging=False, use_dev=False)
    installed = distribute(api, bundle)
    assert (Path(installed.dependency_package) / "dependencies" / "nameless_mod.py").is_file()


def test_batch_operations_as_the_real_server(fresh_server):
    """ayon-backend 1.16, canFail false: a missing parent (409) rolls the batch back; an update
    of an entity that does not exist (404) stops it but keeps what came before."""
    con = _admin(fresh_server)
    url = f"{fresh_server.url}/api/projects/{DEMO_PROJECT}/operations"
    headers = {"Authorization": f"Bearer {con.access_token}"}

    def batch(name: str, second: dict) -> dict:
        response = requests.post(url, headers=headers, timeout=5, json={"canFail": False,
                                 "operations": [{"type": "create", "entityType": "folder",
                                                 "data": {"name": name,
                                                          "folderType": "Folder"}},
                                                second, second]})
        assert response.status_code == 200
        return response.json()

    def folder_names() -> set[str]:
        return {f["name"] for f in con.get_folders(DEMO_PROJECT)}

    missing = "0123456789abcdef0123456789abcdef"
    answer = batch("rolled_back", {"type": "create", "entityType": "version",
                                   "data": {"version": 1, "productId": missing}})
    assert answer["success"] is False and len(answer["operations"]) == 2  # stops at the failure
    first, failed = answer["operations"]
    assert first["success"] is True and first["status"] == 201 and first["id"]
    assert first["errorCode"] is None and first["detail"] is None
    assert failed["status"] == 409 and failed["errorCode"] == "foreign-key-violation"
    assert failed["entityId"] is None
    assert "rolled_back" not in folder_names()

    answer = batch("kept", {"type": "update", "entityType": "folder", "entityId": missing,
                            "data": {"label": "x"}})
    assert [op["status"] for op in answer["operations"]] == [201, 404]
    assert answer["operations"][1] == {**answer["operations"][1], "errorCode": "not-found",
                                       "detail": f"Entity {missing} not found"}
    assert "kept" in folder_names()


def test_graphql_unknown_project_is_an_error(local_server):
    # The real server: no data, an error with status 404 (not a null project).
    con = _admin(local_server)
    response = requests.post(f"{local_server.url}/graphql", timeout=5,
                             headers={"Authorization": f"Bearer {con.access_token}"},
                             json={"query": '{project(name: "nope") {name}}'})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Project not found"
    assert body["errors"][0]["extensions"] == {"status": 404}
    with pytest.raises(Exception, match="Project not found"):
        list(con.get_folders("nope"))  # ayon_api raises, as against the real server


def _model_fields(path: Path, name: str) -> set[str]:
    """camelCase field names of pydantic model ``name`` in ``path`` (bases from the same file
    included), as the real server's OPModel serialises them."""
    classes = {n.name: n for n in ast.parse(path.read_text(encoding="utf-8")).body
               if isinstance(n, ast.ClassDef)}
    fields: set[str] = set()
    node = classes[name]
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            fields |= _model_fields(path, base.id)
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            head, *rest = item.target.id.split("_")
            fields.add(head + "".join(part.title() for part in rest))
    return fields


def test_no_field_the_real_models_lack(backend_source, local_server):
    """Every key of the payloads the launcher reads is a field of the real response model."""
    api, core = backend_source / "api", backend_source / "ayon_server"
    con = _admin(local_server)
    bundle_fields = _model_fields(api / "bundles" / "models.py", "BundleModel")
    for bundle in con.get("bundles").data["bundles"]:
        assert set(bundle) == bundle_fields
    addon_fields = _model_fields(api / "addons" / "list_addons.py", "AddonListItem")
    version_fields = _model_fields(api / "addons" / "list_addons.py", "VersionInfo")
    assert "checksum" not in version_fields and "size" not in version_fields
    for addon in con.get("addons?details=1").data["addons"]:
        assert set(addon) <= addon_fields, set(addon) - addon_fields
        for info in addon["versions"].values():
            assert set(info) <= version_fields, set(info) - version_fields
    package_fields = _model_fields(core / "installer" / "models.py",
                                   "DependencyPackageManifest")
    for package in con.get("desktop/dependencyPackages").data["packages"]:
        assert set(package) <= package_fields, set(package) - package_fields
    settings = con.get("settings").data
    assert set(settings) <= _model_fields(api / "settings" / "models.py",
                                          "AllSettingsResponseModel")
    item_fields = _model_fields(api / "settings" / "models.py", "AddonSettingsItemModel")
    for item in settings["addons"]:
        assert set(item) <= item_fields, set(item) - item_fields


def _keys_of(server, path: str) -> object:
    response = requests.get(server.url + path, timeout=30,
                            headers={"Authorization": f"Bearer {server.login_token()}"})
    assert response.status_code == 200, (server.url, path, response.text[:200])
    return response.json()


def test_payload_keys_match_the_running_real_server(embedded_server, real_server):
    """Side by side, both demo-seeded: the payloads the launcher reads have the same keys
    (no field the real one lacks, none missing that it gives)."""
    from ayon_launcher.localserver import seed

    def both(path: str) -> tuple[object, object]:
        return _keys_of(embedded_server, path), _keys_of(real_server, path)

    mine, real = both("/api/info")
    assert set(mine) == set(real), set(mine) ^ set(real)
    assert set(mine["user"]) == set(real["user"]), set(mine["user"]) ^ set(real["user"])
    mine, real = both("/api/users/me")
    assert set(mine) == set(real), set(mine) ^ set(real)

    mine, real = both("/api/bundles")
    assert set(mine) == set(real)
    mine_b = {b["name"]: b for b in mine["bundles"]}
    real_b = {b["name"]: b for b in real["bundles"]}
    for name in (seed.PRODUCTION_BUNDLE, seed.STAGING_BUNDLE):
        assert set(mine_b[name]) == set(real_b[name]), set(mine_b[name]) ^ set(real_b[name])

    mine, real = both("/api/addons?details=1")
    mine_a = {a["name"]: a for a in mine["addons"]}
    real_a = {a["name"]: a for a in real["addons"]}
    for name in ("demo_tools", "applications"):
        assert set(mine_a[name]) == set(real_a[name]), set(mine_a[name]) ^ set(real_a[name])
        for version, info in mine_a[name]["versions"].items():
            other = real_a[name]["versions"][version]
            # clientPyproject is there only when the package ships a pyproject.toml.
            assert set(info) - {"clientPyproject"} == set(other) - {"clientPyproject"}, \
                (name, version, set(info) ^ set(other))
            assert info["clientSourceInfo"] == other["clientSourceInfo"]

    mine, real = both("/api/desktop/dependencyPackages")
    assert set(mine["packages"][0]) == set(real["packages"][0]), \
        set(mine["packages"][0]) ^ set(real["packages"][0])

    mine, real = both(f"/api/projects/{seed.DEMO_PROJECT}")
    assert set(mine) == set(real), set(mine) ^ set(real)
    assert set(mine["config"]) == set(real["config"]), set(mine["config"]) ^ set(real["config"])
    assert set(mine["config"]["templates"]["common"]) == \
        set(real["config"]["templates"]["common"])
    mine, real = both(f"/api/projects/{seed.DEMO_PROJECT}/anatomy")
    assert set(mine) == set(real), set(mine) ^ set(real)
    assert set(mine["templates"]) == set(real["templates"]), \
        set(mine["templates"]) ^ set(real["templates"])

    path = f"/api/settings?bundle_name={seed.PRODUCTION_BUNDLE}&variant=production"
    mine, real = both(path)
    assert set(mine) == set(real), set(mine) ^ set(real)
    mine_s = {a["name"]: a for a in mine["addons"]}
    real_s = {a["name"]: a for a in real["addons"]}
    assert set(mine_s["demo_tools"]) == set(real_s["demo_tools"]), \
        set(mine_s["demo_tools"]) ^ set(real_s["demo_tools"])
