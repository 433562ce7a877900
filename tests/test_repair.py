"""Installed items are checked at every start and repaired.

Installed items are checked at every start and repaired; archives without a server checksum
are checked by their own integrity and by the sha256 recorded at their install.

The server here is the embedded one with the add-ons' checksum and size removed, as ynput's
real server lists add-on client archives (``clientSourceInfo`` only). Real archives, real
HTTP, real ``ayon`` subprocesses.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from ayon_launcher.bootstrapper.distribution import manifest, store
from ayon_launcher.bootstrapper.distribution.archives import ArchiveError, safe_extract
from conftest import isolated_env, run_ayon
from failure_helpers import FaultProxy

SCRIPT = ("import ayon_demo_deps, ayon_demo_tools\n"
          "print('answer', ayon_demo_deps.answer())\n")
DEPS_FILE = "dependencies/ayon_demo_deps/__init__.py"


def like_the_real_server(server) -> None:
    """No checksum and no size for add-on client archives (nor the dependency package)."""
    for record in server.store.list("addon"):
        if record.get("hasClient"):
            record["checksum"] = None
            record["size"] = None
            server.store.put("addon", f"{record['name']}/{record['version']}", record)
    for record in server.store.list("dependency_package"):
        record["checksum"] = None
        record["size"] = None
        server.store.put("dependency_package", record["filename"], record)


@pytest.fixture
def setup(fresh_server, tmp_path):
    like_the_real_server(fresh_server)
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = fresh_server.service_api_key
    env["AYON_LAUNCHER_DOWNLOAD_RETRIES"] = "2"
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    return fresh_server, env, script, tmp_path / "local"


def start(env: dict[str, str], script: Path, *flags: str):
    return run_ayon(["--headless", *flags, str(script)], env)


def damage_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " is damaged (" in line]


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".ayon")}


def empty(folder: Path) -> None:
    """What ``rm -rf folder/*`` does: the dot files (the metadata) stay."""
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def work_folders(local: Path) -> list[str]:
    return [p.name for sub in ("addons", "dependency_packages") if (local / sub).is_dir()
            for p in (local / sub).iterdir() if p.name.startswith((".tmp-", ".trash-"))]


def test_emptied_addon_and_damaged_dependency_package_repaired_on_next_start(setup):
    server, env, script, local = setup
    first = start(env, script)
    assert first.returncode == 0, first.stderr
    assert "answer 42" in first.stdout
    tools = local / "addons" / "demo_tools_1.0.0"
    deps = next((local / "dependency_packages").iterdir())
    good_tools, good_deps = files_of(tools), files_of(deps)
    meta = store.read_metadata(tools)
    # The sha256 of the archive is recorded although the server announced none.
    client = server.store.addon_dir("demo_tools", "1.0.0") / "client.zip"
    assert meta["sha256"] == hashlib.sha256(client.read_bytes()).hexdigest()
    assert meta["size"] == client.stat().st_size
    assert meta["manifest"]["files"] == len(good_tools)

    # A start after the add-ons were imported (__pycache__ written) notices nothing.
    quiet = start(env, script)
    assert quiet.returncode == 0 and damage_lines(quiet.stderr) == [], quiet.stderr

    empty(tools)
    (deps / DEPS_FILE).unlink()
    repaired = start(env, script)
    assert repaired.returncode == 0, repaired.stderr
    assert "answer 42" in repaired.stdout
    lines = damage_lines(repaired.stderr)
    assert len(lines) == 2, repaired.stderr
    assert any("addon demo_tools 1.0.0 is damaged (its folder was emptied)" in line
               for line in lines)
    assert any(f"dependency package {deps.name}.zip is damaged (1 of 1 files missing "
               f"({DEPS_FILE}))" in line for line in lines), lines
    assert files_of(tools) == good_tools and files_of(deps) == good_deps
    assert work_folders(local) == []

    again = start(env, script)
    assert again.returncode == 0 and damage_lines(again.stderr) == [], again.stderr


def test_what_a_power_cut_leaves_of_an_installs_unflushed_metadata_is_installed_again(setup):
    # An item's metadata and manifest are renamed into place with its extracted files, none
    # of them flushed to disk: a power cut can leave any of them empty. Each is noticed.
    _server, env, script, local = setup
    first = start(env, script)
    assert first.returncode == 0, first.stderr
    tools = local / "addons" / "demo_tools_1.0.0"
    deps = next((local / "dependency_packages").iterdir())
    good_tools, good_deps = files_of(tools), files_of(deps)
    good_meta = store.read_metadata(tools)
    (tools / store.METADATA_FILE).write_bytes(b"")
    (deps / manifest.MANIFEST_FILE).write_bytes(b"")
    # No metadata: not installed, installed again (the folder is replaced).
    again = start(env, script)
    assert again.returncode == 0, again.stderr
    assert "answer 42" in again.stdout
    assert "INFO: installed addon demo_tools 1.0.0" in again.stderr
    assert files_of(tools) == good_tools
    assert store.read_metadata(tools)["sha256"] == good_meta["sha256"]
    # No manifest: the check that needs it calls the item damaged, and it is repaired.
    verified = start(env, script, "--verify")
    assert verified.returncode == 0, verified.stderr
    assert [line.split("WARNING: ", 1)[-1] for line in damage_lines(verified.stderr)] == [
        f"dependency package {deps.name}.zip is damaged (its file manifest is missing or "
        "unreadable): installing it again"], verified.stderr
    assert files_of(deps) == good_deps
    assert manifest.read_files(deps) is not None
    assert work_folders(local) == []


def test_install_files_are_written_whole_and_flushed_unless_told_not_to(tmp_path,
                                                                        monkeypatch):
    # Mocked: os.fsync is only counted (a power cut cannot be made here). State and login
    # files stay flushed to disk; an item's metadata is not (see the test above).
    import ayon_launcher.support.atomicfile as atomicfile

    flushed: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomicfile.os, "fsync", lambda fd: flushed.append(fd) or real_fsync(fd))
    atomicfile.write_json_atomic(tmp_path / "state.json", {"a": 1})
    assert len(flushed) == 1
    atomicfile.write_json_atomic(tmp_path / "meta.json", {"b": 2}, durable=False)
    manifest.write_files(tmp_path, {"x.py": [1, 2, 3]}, durable=False)
    assert len(flushed) == 1
    assert json.loads((tmp_path / "meta.json").read_text()) == {"b": 2}
    assert manifest.read_files(tmp_path) == {"x.py": [1, 2, 3]}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["state.json", "meta.json", manifest.MANIFEST_FILE])


def test_same_size_change_is_caught_by_verify_and_repaired(setup):
    server, env, script, local = setup
    assert start(env, script).returncode == 0
    tools = local / "addons" / "demo_tools_1.0.0"
    good = files_of(tools)
    target = tools / "ayon_demo_tools" / "__init__.py"
    data = target.read_bytes()
    changed = data.replace(b'"DemoToolsAddon"', b"'DemoToolsAddon'")  # same size, still valid
    assert changed != data and len(changed) == len(data)
    with open(target, "r+b") as stream:  # rewritten in place: its folder's time stays
        stream.write(changed)

    # The cheap check looks at folders, not at every file: an in-place rewrite needs --verify.
    plain = start(env, script)
    assert plain.returncode == 0 and damage_lines(plain.stderr) == [], plain.stderr

    verified = start(env, script, "--verify")  # the click-free script path
    assert verified.returncode == 0, verified.stderr
    lines = damage_lines(verified.stderr)
    assert lines == ["WARNING: addon demo_tools 1.0.0 is damaged (1 file(s) changed "
                     "(ayon_demo_tools/__init__.py)): installing it again"], verified.stderr
    assert "verified every file of 3 installed item(s): 1 damaged" in verified.stderr
    assert files_of(tools) == good

    # The click app takes the flag too, and finds everything intact now.
    out = local.parent / "env.json"
    clean = run_ayon(["--headless", "--verify", "extractenvironments", str(out)], env)
    assert clean.returncode == 0, clean.stderr
    assert "verified every file of 3 installed item(s): 0 damaged" in clean.stderr
    assert json.loads(out.read_text())


def test_recorded_sha256_is_required_of_a_repair_without_server_checksum(setup):
    server, env, script, local = setup
    assert start(env, script).returncode == 0
    tools = local / "addons" / "demo_tools_1.0.0"
    good = files_of(tools)
    client = server.store.addon_dir("demo_tools", "1.0.0") / "client.zip"
    original = client.read_bytes()
    # The same version, another archive (a valid one): the server cannot say which is right.
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(buffer, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("ayon_demo_tools/extra.py", "X = 1\n")
    client.write_bytes(buffer.getvalue())

    empty(tools)
    refused = start(env, script)
    assert refused.returncode == 5, refused.stderr
    error = refused.stderr.strip().splitlines()[-1]
    assert error.startswith("ayon: error: ") and "addon demo_tools 1.0.0" in error
    assert "the archive differs from the one installed here before" in error
    assert f"delete {tools} to accept it" in error
    # Nothing half installed: the damaged copy stays as it was, with its record.
    assert store.read_metadata(tools) is not None and files_of(tools) == {}
    assert work_folders(local) == []

    client.write_bytes(original)
    repaired = start(env, script)
    assert repaired.returncode == 0, repaired.stderr
    assert files_of(tools) == good


def corrupt_crc(data: bytes, member: str) -> bytes:
    """Flip one byte of a stored member's data: the zip directory stays valid, its CRC not."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    raw = bytearray(data)
    header = info.header_offset
    name_len = int.from_bytes(raw[header + 26:header + 28], "little")
    extra_len = int.from_bytes(raw[header + 28:header + 30], "little")
    start = header + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0xFF
    return bytes(raw)


def test_corrupt_archive_without_server_checksum_is_refused(setup):
    server, env, script, local = setup
    client = server.store.addon_dir("demo_tools", "1.0.0") / "client.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(client.read_bytes())) as src, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info), zipfile.ZIP_STORED)
    client.write_bytes(corrupt_crc(buffer.getvalue(), "ayon_demo_tools/__init__.py"))

    refused = start(env, script)
    assert refused.returncode == 5, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert lines[-1].startswith("ayon: error: ") and "addon demo_tools 1.0.0" in lines[-1]
    assert "corrupt archive member 'ayon_demo_tools/__init__.py'" in lines[-1]
    assert "(bad CRC-32 for file " in lines[-1]  # in words, no class name
    assert not (local / "addons" / "demo_tools_1.0.0").exists()
    assert work_folders(local) == []


def test_transfer_shorter_than_its_content_length_is_refused(setup):
    server, env, script, local = setup
    proxy = FaultProxy(server.url)
    try:
        proxy.fail("demo_tools/1.0.0/private/client.zip", "cut")
        env["AYON_SERVER_URL"] = proxy.url
        refused = start(env, script)
    finally:
        proxy.close()
    # Every attempt was cut: the server does not deliver, and no bundle was installed before.
    assert refused.returncode == 3, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert lines[-1].startswith("ayon: error: ") and "addon demo_tools 1.0.0" in lines[-1]
    assert "gave up after 2 attempts" in lines[-1]
    assert proxy.hits_for("demo_tools/1.0.0/private/client.zip") == 2
    assert not (local / "addons" / "demo_tools_1.0.0").exists()
    assert work_folders(local) == []


def test_offline_start_with_a_damaged_item_is_an_error_not_a_wrong_environment(setup):
    server, env, script, local = setup
    assert start(env, script).returncode == 0
    server.stop()
    assert start(env, script).returncode == 0  # offline, intact: runs
    empty(local / "addons" / "demo_tools_1.0.0")
    offline = start(env, script)
    assert offline.returncode == 5, offline.stderr
    assert "answer" not in offline.stdout
    error = offline.stderr.strip().splitlines()[-1]
    assert error.startswith("ayon: error: ")
    assert "cannot start offline: addon demo_tools 1.0.0 is damaged (its folder was " \
        "emptied), and it cannot be repaired without the server" in error


def test_install_of_an_older_launcher_gets_its_manifest_once(setup):
    server, env, script, local = setup
    assert start(env, script).returncode == 0
    tools = local / "addons" / "demo_tools_1.0.0"
    apps = local / "addons" / "applications_1.0.0"
    for folder in (tools, apps):  # as an older launcher left them: no manifest
        meta = store.read_metadata(folder)
        for key in ("manifest", "sha256", "size"):
            meta.pop(key)
        (folder / store.METADATA_FILE).write_text(json.dumps(meta))
        (folder / manifest.MANIFEST_FILE).unlink()
    good_apps = files_of(apps)
    empty(apps)  # damaged before the upgrade: there is nothing to adopt

    upgraded = start(env, script)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "addon demo_tools 1.0.0: recorded a file manifest of this install made by an " \
        "older launcher" in upgraded.stderr
    assert damage_lines(upgraded.stderr) == [
        "WARNING: addon applications 1.0.0 is damaged (its folder was emptied): installing "
        "it again"]
    assert files_of(apps) == good_apps
    assert store.read_metadata(tools)["manifest"]["files"] == len(files_of(tools))
    assert (tools / manifest.MANIFEST_FILE).is_file()

    # From then on the recorded manifest is used: a lost file is found.
    (tools / "ayon_demo_tools" / "__init__.py").unlink()
    repaired = start(env, script)
    assert repaired.returncode == 0, repaired.stderr
    assert "recorded a file manifest" not in repaired.stderr
    assert damage_lines(repaired.stderr) == [
        "WARNING: addon demo_tools 1.0.0 is damaged (1 of 6 files missing "
        "(ayon_demo_tools/__init__.py)): installing it again"]


# --- tar archives: their own integrity ---------------------------------------------------------

def tar_bytes(mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tf:
        for index in range(3):
            data = os.urandom(3000)
            info = tarfile.TarInfo(f"pkg/file{index}.bin")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_tar_with_a_damaged_header_after_the_first_member_is_refused(tmp_path):
    data = bytearray(tar_bytes("w"))
    second = 512 + 3072  # header + data (padded to 512) of the first member
    data[second + 100:second + 108] = b"garbage!"  # its mode field: the header checksum fails
    archive = tmp_path / "pkg.tar"
    archive.write_bytes(bytes(data))
    target = tmp_path / "out"
    target.mkdir()
    # tarfile alone stops quietly there and would install the first member only.
    with tarfile.open(archive) as tf:
        assert [m.name for m in tf.getmembers()] == ["pkg/file0.bin"]
    with pytest.raises(ArchiveError, match="corrupt tar archive"):
        safe_extract(archive, target, "addon x 1")


def test_tar_gz_with_a_damaged_trailer_is_refused(tmp_path):
    data = bytearray(tar_bytes("w:gz"))
    data[-8] ^= 0xFF  # the CRC-32 of the whole stream, read only at its end
    archive = tmp_path / "pkg.tar.gz"
    archive.write_bytes(bytes(data))
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveError, match="corrupt tar archive .*CRC"):
        safe_extract(archive, target, "addon x 1")


def test_tar_cut_at_a_member_boundary_is_refused(tmp_path):
    data = tar_bytes("w")
    archive = tmp_path / "pkg.tar"
    archive.write_bytes(data[: 2 * (512 + 3072)])  # two whole members, no end marker
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ArchiveError, match="truncated tar archive"):
        safe_extract(archive, target, "addon x 1")
