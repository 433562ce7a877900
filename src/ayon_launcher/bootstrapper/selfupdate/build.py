"""``ayon installer build`` / ``upload``: an installer of this launcher, and its roll-out.

An installer is a zip holding the project's wheel, ``requirements.lock`` (exact pins of every
dependency, as installed where it was built, plus pip) and ``manifest.json`` (the record the
server keeps, see ``identity``); optionally ``wheels/`` with every pinned wheel, for machines
without a package index. It installs with pip into a new virtual environment (``install``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ayon_launcher import __version__
from ayon_launcher.bootstrapper.selfupdate import identity
from ayon_launcher.support.errors import LauncherError, UsageError

if TYPE_CHECKING:
    import ayon_api

DIST_NAME = "ayon-launcher"
LOCK_NAME = "requirements.lock"
MANIFEST_NAME = "manifest.json"
_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def source_root() -> Path | None:
    """The project checkout this launcher runs from (None when installed from a wheel)."""
    root = Path(__file__).resolve().parents[4]
    return root if (root / "pyproject.toml").is_file() and (root / "src").is_dir() else None


def dependency_pins(dist: str = DIST_NAME) -> dict[str, str]:
    """{name: version} of every installed dependency of ``dist``, transitively (no extras)."""
    pins: dict[str, str] = {}
    todo = [dist]
    seen: set[str] = set()
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            found = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a dependency of another platform (marker) is not installed here
        if name != _canonical(dist):
            pins[found.metadata["Name"]] = found.version
        for requirement in found.requires or []:
            if "extra ==" in requirement:
                continue
            match = _NAME_RE.match(requirement)
            if match:
                todo.append(match.group(1))
    return dict(sorted(pins.items(), key=lambda kv: kv[0].lower()))


VERSION_FILE = Path("ayon_launcher", "bootstrapper", "ayon_root", "version.py")


def _build_wheel(source: Path, version: str | None, out: Path) -> Path:
    """The project's wheel, built by pip (``version`` overrides the checkout's)."""
    work = Path(tempfile.mkdtemp(prefix="ayon-installer-src-"))
    try:
        tree = work / "src-tree"
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts",
            "tests", ".ci"))
        if version is not None:
            # the one version source: the wheel's metadata and the running launcher both read it
            version_file = Path(tree, "src", *VERSION_FILE.parts)
            if not version_file.is_file():
                raise LauncherError(f"{source} is not a launcher checkout (no {VERSION_FILE})")
            version_file.write_text('"""The launcher\'s version, where ayon-core reads it."""\n\n'
                                    f'__version__ = "{version}"\n', encoding="utf-8")
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                   str(tree)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            raise LauncherError(f"building the launcher's wheel failed: {tail}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wheels = sorted(out.glob("ayon_launcher-*.whl"))
    if not wheels:
        raise LauncherError("building the launcher's wheel made no wheel")
    return wheels[-1]


def build_installer(out_dir: Path, *, version: str | None = None, source: Path | None = None,
                    with_wheels: bool = False, platform: str | None = None) -> Path:
    """Build an installer zip into ``out_dir`` (with ``{zip}.json``, its server record)."""
    from ayon_launcher.bootstrapper.distribution.models import platform_name

    own = version or __version__
    if not re.match(identity.OWN_VERSION_PATTERN, own):
        raise UsageError(f"invalid launcher version {own!r}: use digits, letters, '-' and dots")
    source = source or source_root()
    if source is None or not (source / "pyproject.toml").is_file():
        raise UsageError("no launcher source checkout found: pass --source DIR (the folder "
                         "with pyproject.toml)")
    platform = platform or platform_name()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    filename = identity.installer_filename(own, platform, python)
    out_dir.mkdir(parents=True, exist_ok=True)
    pins = dependency_pins()
    pins.setdefault("pip", metadata.version("pip"))
    with tempfile.TemporaryDirectory(prefix="ayon-installer-") as tmp:
        work = Path(tmp)
        wheel = _build_wheel(source, version, work / "wheel")
        lock = "".join(f"{name}=={pin}\n" for name, pin in pins.items())
        (work / LOCK_NAME).write_text(lock, encoding="utf-8")
        if with_wheels:
            command = [sys.executable, "-m", "pip", "download", "-q", "-d",
                       str(work / "wheels"), "-r", str(work / LOCK_NAME)]
            if subprocess.run(command).returncode != 0:
                raise LauncherError("downloading the pinned wheels failed (see pip's output)")
        manifest: dict[str, Any] = {
            "filename": filename,
            "platform": platform,
            "version": identity.installer_version(own),
            "pythonVersion": python,
            "pythonModules": {identity.KIND: own, **pins},
            "runtimePythonModules": {},
        }
        target = out_dir / filename
        partial = target.with_name(f".{filename}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(wheel, wheel.name)
            archive.write(work / LOCK_NAME, LOCK_NAME)
            archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True))
            for path in sorted((work / "wheels").glob("*")) if with_wheels else []:
                archive.write(path, f"wheels/{path.name}")
        digest = hashlib.sha256(partial.read_bytes()).hexdigest()
        manifest.update(checksum=digest, checksumAlgorithm="sha256",
                        size=partial.stat().st_size)
        partial.replace(target)
    target.with_name(filename + ".json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def read_manifest(installer: Path) -> dict[str, Any]:
    """The server record of a built installer (``{zip}.json`` beside it, else inside it)."""
    beside = installer.with_name(installer.name + ".json")
    try:
        if beside.is_file():
            manifest = json.loads(beside.read_text(encoding="utf-8"))
        else:
            with zipfile.ZipFile(installer) as archive:
                manifest = json.loads(archive.read(MANIFEST_NAME))
            manifest.update(checksum=hashlib.sha256(installer.read_bytes()).hexdigest(),
                            checksumAlgorithm="sha256", size=installer.stat().st_size)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{installer} is not an installer of this launcher: {exc}") from None
    if not identity.is_own_installer(manifest) or manifest.get("filename") != installer.name:
        raise UsageError(f"{installer} is not an installer of this launcher (its manifest does "
                         "not carry the launcher's identity)")
    return manifest


def upload_installer(api: ayon_api.ServerAPI, installer: Path, *, force: bool = False) -> dict:
    """Create the installer's record on the server, then upload its file."""
    manifest = read_manifest(installer)
    record = {**manifest, "sources": [{"type": "server"}]}
    response = api.post("desktop/installers" + ("?force=true" if force else ""), **record)
    if response.status_code in (401, 403):
        from ayon_launcher.support.errors import AuthenticationRequired

        raise AuthenticationRequired("uploading an installer needs an administrator "
                                     f"(HTTP {response.status_code})")
    if not 200 <= response.status_code < 300:
        raise LauncherError(f"the server refused the installer record (HTTP "
                            f"{response.status_code}: {response.detail}); use --force to "
                            "replace an existing one" if response.status_code == 409 else
                            f"the server refused the installer record (HTTP "
                            f"{response.status_code}: {response.detail})")
    try:
        api.upload_file(f"api/desktop/installers/{manifest['filename']}", str(installer),
                        content_type="application/octet-stream")
    except Exception as exc:  # noqa: BLE001 - requests' HTTPError or a network error
        raise LauncherError(f"uploading {installer.name} failed: {exc}") from None
    return manifest
