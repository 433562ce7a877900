"""Bundle choice and distribution against the real local server (in-process, real zips)."""

from __future__ import annotations

import hashlib
import io
import os
import platform
import zipfile
from pathlib import Path

import ayon_api
import pytest

from ayon_launcher.bootstrapper.bootstrap import _load, offline_bundle
from ayon_launcher.bootstrapper.context import LauncherContext
from ayon_launcher.bootstrapper.distribution import store
from ayon_launcher.bootstrapper.distribution.bundles import BundleNotFoundError
from ayon_launcher.bootstrapper.distribution.distribute import distribute, fetch_bundle
from ayon_launcher.support.errors import DistributionError
from conftest import isolated_env, run_ayon
from failure_helpers import error_message, error_messages

PLATFORM = platform.system().lower()


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("AYON_LAUNCHER_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("AYON_LAUNCHER_DOWNLOAD_RETRIES", "2")
    return tmp_path / "local"


def connect(server) -> ayon_api.ServerAPI:
    return ayon_api.ServerAPI(server.url, token=server.service_api_key)


def package_zip(tmp_path: Path, name: str, version: str, payload: bytes = b"") -> Path:
    """A server add-on package (package.py + private/client.zip) with a real client package."""
    client = io.BytesIO()
    with zipfile.ZipFile(client, "w") as zf:
        zf.writestr(f"{name}_client/__init__.py", (
            "from ayon_launcher.pipeline.addons import AYONAddon\n"
            f"class Addon(AYONAddon):\n    name = {name!r}\n    version = {version!r}\n"
        ))
        zf.writestr(f"{name}_client/payload.bin", payload or version.encode())
    path = tmp_path / f"{name}-{version}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("package.py", f'name = "{name}"\nversion = "{version}"\n')
        zf.writestr("private/client.zip", client.getvalue())
    return path


def sync(api, progress_log: list | None = None, **choice):
    choice = {"bundle_name": None, "use_staging": False, "use_dev": False, **choice}
    bundle = fetch_bundle(api, **choice)
    log = progress_log if progress_log is not None else []
    return distribute(api, bundle, lambda label, done, total, st: log.append((label, st)))


def downloaded(progress_log: list) -> set[str]:
    return {label for label, st in progress_log if st == "downloading"}


def test_production_staging_named_and_missing_bundle(local_server):
    api = connect(local_server)
    choose = dict(bundle_name=None, use_staging=False, use_dev=False)
    assert fetch_bundle(api, **choose).name == "demo_production"
    assert fetch_bundle(api, **{**choose, "use_staging": True}).name == "demo_staging"
    named = fetch_bundle(api, **{**choose, "bundle_name": "demo_staging"})
    assert named.name == "demo_staging" and named.addons["demo_tools"] == "1.1.0"
    with pytest.raises(BundleNotFoundError) as info:
        fetch_bundle(api, **{**choose, "bundle_name": "nope"})
    message = str(info.value)
    assert "'nope'" in message and "demo_production" in message and "demo_staging" in message


def test_dev_bundle_of_the_current_user(fresh_server, local):
    api = connect(fresh_server)
    me = api.get_user()["name"]
    fresh_server.create_bundle("someone_dev", {"demo_tools": "1.0.0"}, is_dev=True,
                               active_user="admin")
    with pytest.raises(BundleNotFoundError, match="someone_dev"):
        fetch_bundle(api, bundle_name=None, use_staging=False, use_dev=True)
    fresh_server.create_bundle("my_dev", {"demo_tools": "1.1.0"}, is_dev=True, active_user=me)
    bundle = fetch_bundle(api, bundle_name=None, use_staging=False, use_dev=True)
    assert bundle.name == "my_dev" and bundle.variant == "my_dev"

    # An add-on under development is used from its local folder, never downloaded.
    dev_src = local.parent / "dev_src" / "demo_tools_client"
    dev_src.mkdir(parents=True)
    fresh_server.update_bundle("my_dev", addonDevelopment={
        "demo_tools": {"enabled": True, "path": str(dev_src)}})
    log: list = []
    installed = sync(api, log, use_dev=True)
    assert installed.bundle_name == "my_dev"
    assert [(a.name, a.path, a.dev) for a in installed.addons] == [
        ("demo_tools", str(dev_src), True)]
    assert not any(label.startswith("addon ") for label in downloaded(log))
    assert not (local / "addons" / "demo_tools_1.1.0").exists()


def test_dev_addon_from_a_missing_folder_is_a_warning(fresh_server, local, caplog):
    api = connect(fresh_server)
    me = api.get_user()["name"]
    fresh_server.create_bundle("my_dev", {"demo_tools": "1.1.0"}, is_dev=True, active_user=me)
    missing = local.parent / "no_such_checkout" / "demo_tools"
    fresh_server.update_bundle("my_dev", addonDevelopment={
        "demo_tools": {"enabled": True, "path": str(missing)}})
    # The add-on loading step warns (online and offline starts alike).
    with caplog.at_level("WARNING", logger="ayon_launcher"):
        installed = sync(api, use_dev=True)
        _load(LauncherContext(use_dev=True), installed, api, False)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"dev bundle my_dev: add-on demo_tools is developed from {missing}, "
                        "which is not a folder here; the add-on is not loaded"]
    assert [(a.name, a.dev) for a in installed.addons] == [("demo_tools", True)]
    # Offline the same: the bundle's store folders are complete, its dev checkout is not.
    caplog.clear()
    ctx = LauncherContext(server_url=fresh_server.url, use_dev=True)
    offline = offline_bundle(ctx)
    assert offline is not None and offline.bundle_name == "my_dev" and store.claim(offline)
    with caplog.at_level("WARNING", logger="ayon_launcher"):
        _load(ctx, offline, None, True)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == warnings
    store.release_marks()
    caplog.clear()
    missing.mkdir(parents=True)  # once the checkout is there: no warning
    with caplog.at_level("WARNING", logger="ayon_launcher"):
        _load(LauncherContext(use_dev=True), sync(api, use_dev=True), api, False)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_unusable_local_folder_is_one_clear_line(local_server, tmp_path):
    env = isolated_env(tmp_path, local_server.url)
    env["AYON_API_KEY"] = local_server.service_api_key
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    # A file, and a folder that cannot be made (below a file: the read-only case, as root).
    for folder in (afile, afile / "sub"):
        done = run_ayon(["--headless", "addon", "demo_tools", "hello"],
                        {**env, "AYON_LAUNCHER_LOCAL_DIR": str(folder)})
        assert done.returncode == 5, done.stderr
        # No log file either: the line names none.
        assert [error_message(line, log=False) for line in done.stderr.strip().splitlines()] == [
            f"ayon: error: cannot use the add-on store {folder}: Not a directory "
            "(AYON_LAUNCHER_LOCAL_DIR)"]
    # Everything installed, then the state folder becomes unusable: still one clear line.
    assert run_ayon(["--headless", "addon", "demo_tools", "hello"], env).returncode == 0
    state_dir = tmp_path / "local" / "state"
    import shutil

    shutil.rmtree(state_dir)
    state_dir.write_text("")
    done = run_ayon(["--headless", "addon", "demo_tools", "hello"], env)
    assert done.returncode == 5, done.stderr
    assert error_messages(done.stderr.strip().splitlines()) == [
        f"ayon: error: cannot use the add-on store {tmp_path / 'local'}: {state_dir} is not "
        "a folder (AYON_LAUNCHER_LOCAL_DIR)"]


def test_first_sync_noop_second_sync_and_new_bundle_updates_one_addon(fresh_server, local,
                                                                       tmp_path):
    fresh_server.add_addon_zip(package_zip(tmp_path, "extra", "1.0.0"))
    fresh_server.create_bundle("b1", {"demo_tools": "1.0.0", "extra": "1.0.0"},
                               {PLATFORM: f"demo_dependencies_{PLATFORM}.zip"},
                               is_production=True)
    api = connect(fresh_server)
    log: list = []
    first = sync(api, log)
    assert first.bundle_name == "b1"
    assert downloaded(log) == {"addon demo_tools 1.0.0", "addon extra 1.0.0",
                               f"dependency package demo_dependencies_{PLATFORM}.zip"}
    demo_dir = local / "addons" / "demo_tools_1.0.0"
    assert (demo_dir / "ayon_demo_tools" / "addon.py").is_file()
    assert (local / "addons" / "extra_1.0.0" / "extra_client" / "__init__.py").is_file()
    meta = store.read_metadata(demo_dir)
    assert meta["source"] == "server:client.zip" and meta["algorithm"] == "sha256"
    assert meta["checksum"] == hashlib.sha256(
        (fresh_server.store.addon_dir("demo_tools", "1.0.0") / "client.zip").read_bytes()
    ).hexdigest()
    assert first.settings["demo_tools"]["greeting"]
    inode = demo_dir.stat().st_ino

    log.clear()
    again = sync(api, log)
    assert downloaded(log) == set()  # nothing fetched: every item present and valid
    assert {label for label, st in log} == {label for label, st in log if st == "skipped"}
    assert store.read_metadata(demo_dir)["installed_at"] == meta["installed_at"]
    assert again.addons == first.addons

    fresh_server.add_addon_zip(package_zip(tmp_path, "extra", "1.1.0"))
    fresh_server.create_bundle("b2", {"demo_tools": "1.0.0", "extra": "1.1.0"},
                               {PLATFORM: f"demo_dependencies_{PLATFORM}.zip"},
                               is_production=True)
    log.clear()
    updated = sync(api, log)
    assert updated.bundle_name == "b2"
    assert downloaded(log) == {"addon extra 1.1.0"}
    assert demo_dir.stat().st_ino == inode
    assert (local / "addons" / "extra_1.1.0" / "extra_client" / "payload.bin").read_bytes() \
        == b"1.1.0"
    assert [b.bundle_name for b in store.load_history()] == ["b2", "b1"]


def test_bad_hash_rejected_and_previous_state_kept(fresh_server, local, tmp_path):
    api = connect(fresh_server)
    sync(api)
    # Corrupt the staging client archive on the server. As on the real server, no checksum is
    # announced for add-on archives: the archive's own integrity check refuses it.
    client = fresh_server.store.addon_dir("demo_tools", "1.1.0") / "client.zip"
    client.write_bytes(client.read_bytes()[:-10] + b"tampered!!")
    with pytest.raises(DistributionError) as info:
        sync(api, use_staging=True)
    message = str(info.value)
    assert "addon demo_tools 1.1.0" in message and "unreadable zip archive" in message
    assert not (local / "addons" / "demo_tools_1.1.0").exists()
    assert (local / "addons" / "demo_tools_1.0.0" / "ayon_demo_tools" / "addon.py").is_file()
    last = store.last_installed()
    assert last is not None and last.bundle_name == "demo_production"

    # A dependency package carries a checksum: a file that does not match it is refused.
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("dependencies/badsum_mod.py", "VALUE = 1\n")
    data = data.getvalue()
    api.create_dependency_package("badsum.zip", python_modules={}, source_addons={},
                                  installer_version="0.1.0", checksum="0" * 64,
                                  checksum_algorithm="sha256", file_size=len(data),
                                  platform_name=PLATFORM)
    upload = tmp_path / "badsum.zip"
    upload.write_bytes(data)
    api.upload_dependency_package(str(upload), "badsum.zip")
    fresh_server.create_bundle("badsum", {"demo_tools": "1.0.0"}, {PLATFORM: "badsum.zip"})
    with pytest.raises(DistributionError) as info:
        sync(api, bundle_name="badsum")
    assert "badsum.zip" in str(info.value) and "checksum mismatch" in str(info.value)
    assert not (local / "dependency_packages" / "badsum").exists()
    last = store.last_installed()
    assert last is not None and last.bundle_name == "demo_production"


def test_dependency_package_http_and_filesystem_sources(fresh_server, local, tmp_path):
    api = connect(fresh_server)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("dependencies/srcdep_mod.py", "VALUE = 'from sources'\n")
    data = data.getvalue()
    checksum = hashlib.sha256(data).hexdigest()
    common = dict(python_modules={}, source_addons={}, installer_version="0.1.0",
                  checksum=checksum, checksum_algorithm="sha256", file_size=len(data),
                  platform_name=PLATFORM)

    # http: served by the local server itself, authorised by the source's own headers.
    url = f"{fresh_server.url}/api/desktop/dependencyPackages/http_dep.zip"
    api.create_dependency_package("http_dep.zip", sources=[
        {"type": "filesystem", "path": {PLATFORM: str(tmp_path / "missing.zip")}},
        {"type": "http", "url": url, "filename": "http_dep.zip",
         "headers": {"X-Api-Key": fresh_server.service_api_key}},
    ], **common)
    upload = tmp_path / "upload.zip"
    upload.write_bytes(data)
    api.upload_dependency_package(str(upload), "http_dep.zip")
    fresh_server.create_bundle("with_http", {"demo_tools": "1.0.0"}, {PLATFORM: "http_dep.zip"})
    installed = sync(api, bundle_name="with_http")
    meta = store.read_metadata(Path(installed.dependency_package))
    assert meta["source"] == f"http:{url}" and meta["checksum"] == checksum
    assert (Path(installed.dependency_package) / "dependencies" / "srcdep_mod.py").is_file()

    # filesystem: a shared path, never uploaded to the server.
    shared = tmp_path / "shared" / "fs_dep.zip"
    shared.parent.mkdir()
    shared.write_bytes(data)
    api.create_dependency_package("fs_dep.zip", sources=[
        {"type": "filesystem", "path": {"windows": "C:/nope.zip", "linux": str(shared),
                                        "darwin": str(shared)}},
    ], **common)
    fresh_server.create_bundle("with_fs", {"demo_tools": "1.0.0"}, {PLATFORM: "fs_dep.zip"})
    installed = sync(api, bundle_name="with_fs")
    meta = store.read_metadata(Path(installed.dependency_package))
    assert meta["source"] == f"filesystem:{shared}"


def test_cleanup_keeps_versions_of_recent_bundles_only(fresh_server, local, monkeypatch):
    api = connect(fresh_server)
    monkeypatch.setenv("AYON_LAUNCHER_KEEP_BUNDLES", "2")
    sync(api)
    sync(api, use_staging=True)
    addons = local / "addons"
    assert (addons / "demo_tools_1.0.0").is_dir() and (addons / "demo_tools_1.1.0").is_dir()
    monkeypatch.setenv("AYON_LAUNCHER_KEEP_BUNDLES", "1")
    current = sync(api, use_staging=True)
    assert not (addons / "demo_tools_1.0.0").exists()
    assert (addons / "demo_tools_1.1.0" / "ayon_demo_tools").is_dir()  # in use: kept
    assert [a.path for a in current.addons] == [str(addons / "applications_1.0.0"),
                                                str(addons / "demo_tools_1.1.0")]
    # The dependency package is used by the current bundle too.
    assert Path(current.dependency_package).is_dir()
    assert sorted(os.listdir(addons)) == ["applications_1.0.0", "demo_tools_1.1.0"]


def test_offline_choice_by_variant_and_private_history(fresh_server, local):
    import stat

    from ayon_launcher.bootstrapper.bootstrap import offline_bundle
    from ayon_launcher.bootstrapper.context import LauncherContext

    api = connect(fresh_server)
    sync(api)  # production
    url = fresh_server.url
    history = Path(store.history.history_path())
    # It keeps the bundles' studio settings: readable by the user only.
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    production = LauncherContext(server_url=url)
    assert offline_bundle(production).bundle_name == "demo_production"
    # A dev start never falls back to a studio bundle...
    assert offline_bundle(LauncherContext(server_url=url, use_dev=True)) is None
    me = api.get_user()["name"]
    fresh_server.create_bundle("my_dev", {"demo_tools": "1.1.0"}, is_dev=True, active_user=me)
    sync(api, use_dev=True)
    # ...but takes the user's own dev bundle once it was installed.
    assert offline_bundle(LauncherContext(server_url=url, use_dev=True)).bundle_name == "my_dev"
    # Staging is as strict: production and dev bundles are installed, no staging one.
    assert offline_bundle(LauncherContext(server_url=url, use_staging=True)) is None
    # A named bundle is that bundle or nothing, whatever else is installed.
    assert offline_bundle(LauncherContext(server_url=url, bundle_name="demo_staging")) is None
    assert offline_bundle(LauncherContext(server_url=url, bundle_name="my_dev")).bundle_name \
        == "my_dev"
    sync(api, use_staging=True)
    assert offline_bundle(LauncherContext(server_url=url, use_staging=True)).bundle_name \
        == "demo_staging"
    # Without a choice: the studio's production bundle, even when another is more recent.
    assert offline_bundle(production).bundle_name == "demo_production"
