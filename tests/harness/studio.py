"""A real studio bundle (ayon-core + ayon-applications) on a real AYON server, built for tests."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

# The official launcher's own version (its version.py): the real server accepts it as a bundle's
# installerVersion without a registered installer when an add-on declares ayon_launcher_version.
INSTALLER_VERSION = "1.6.4-dev"

PLATFORM = {"linux": "linux", "darwin": "darwin", "win32": "windows"}.get(sys.platform, "linux")

FOLDER_NAME = "sh010"
FOLDER_TYPE = "Shot"
FOLDER_PATH = f"/{FOLDER_NAME}"
TASK_NAME = "compositing"
TASK_TYPE = "Compositing"
APP_GROUP = "myapp"
APP_VARIANT = "1-0"
APP_FULL_NAME = f"{APP_GROUP}/{APP_VARIANT}"
# Environment the app group and variant add (to be found in the extracted environment).
APP_GROUP_ENV = {"STUDIO_APP_GROUP_MARK": "myapp-group"}
APP_VARIANT_ENV = {"STUDIO_APP_MARK": "myapp-1-0"}
# Variables the small app script records; STUDIO_APP_RECORD names the file it writes.
APP_RECORD_ENV = "STUDIO_APP_RECORD"
APP_RECORDED_VARS = (
    "AYON_PROJECT_NAME", "AYON_FOLDER_PATH", "AYON_TASK_NAME", "AYON_APP_NAME",
    "AYON_WORKDIR", "AYON_SERVER_URL", *APP_VARIANT_ENV, *APP_GROUP_ENV,
)

# Top-level modules of ynput's official launcher (its pyproject.toml), used when its uv.lock is
# not at hand to tell what the launcher ships (dependency packages leave those out).
_OFFICIAL_TOP_LEVEL = (
    "ayon-python-api", "arrow", "unidecode", "aiohttp", "platformdirs", "coolname", "keyring",
    "blessed", "enlighten", "cryptography", "dnspython", "urllib3", "semver", "qtpy",
    "python3-xlib", "distro",
)
# The Qt binding the official builds put in their runtime (vendor/python).
_OFFICIAL_RUNTIME = ("pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6")


class StudioBuildError(RuntimeError):
    """A piece of the studio bundle could not be built."""


# --- where things are ------------------------------------------------------------------------

def peers_dir() -> Path | None:
    """The folder with ynput's tarballs (`../shared/peers`), or None when it is absent."""
    candidates = []
    if os.environ.get("AYON_PEERS_DIR"):
        candidates.append(Path(os.environ["AYON_PEERS_DIR"]))
    candidates += [REPO_ROOT.parent / "shared" / "peers",
                   REPO_ROOT.parent.parent / "shared" / "peers"]
    for path in candidates:
        if path.is_dir() and any(path.glob("ayon-*.tar.gz")):
            return path
    return None


def peer_archive(prefix: str) -> Path | None:
    """The ``{prefix}-<commit>.tar.gz`` of the peers folder (e.g. ``ayon-core``), or None."""
    root = peers_dir()
    if root is None:
        return None
    found = sorted(p for p in root.glob(f"{prefix}-*.tar.gz")
                   if re.fullmatch(rf"{re.escape(prefix)}-[0-9a-f]+\.tar\.gz", p.name))
    return found[-1] if found else None


def missing_peers(*prefixes: str) -> list[str]:
    """Which of the given peer archives are absent."""
    return [prefix for prefix in prefixes if peer_archive(prefix) is None]


def cache_root() -> Path:
    """Cache of built pieces kept between runs (``AYON_TEST_CACHE_DIR`` moves it)."""
    root = Path(os.environ.get("AYON_TEST_CACHE_DIR")
                or Path.home() / ".cache" / "ayon-launcher-tests")
    root.mkdir(parents=True, exist_ok=True)
    return root


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def text_hash(*parts: str) -> str:
    """Hex digest of some strings (a cache key)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def unpack_archive(archive: Path) -> Path:
    """Unpack a peer tarball once per content hash; returns the source folder inside it."""
    key = file_hash(archive)[:16]
    target = cache_root() / "src" / f"{archive.name.removesuffix('.tar.gz')}-{key}"
    if not (target / ".unpacked").exists():
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (tmp / ".unpacked").write_text(archive.name)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    children = [p for p in target.iterdir() if p.is_dir()]
    return children[0] if len(children) == 1 else target


class Timings(dict):
    """Seconds spent per step, in order (reported by the fixtures)."""

    def add(self, name: str, started: float) -> None:
        self[name] = round(time.monotonic() - started, 2)


# --- add-on packages -----------------------------------------------------------------------------

@dataclass
class AddonBuild:
    """An add-on package built by the add-on's own ``create_package.py``."""

    name: str
    version: str
    zip_path: Path
    client_pyproject: dict[str, Any]


def _package_info(package_py: str) -> dict[str, Any]:
    """Literal top-level assignments of an add-on's ``package.py``."""
    info: dict[str, Any] = {}
    for node in ast.parse(package_py).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                info[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return info


def build_addon(prefix: str, timings: Timings | None = None) -> AddonBuild:
    """Build the add-on of peer archive ``prefix`` (cached by the archive's hash)."""
    archive = peer_archive(prefix)
    if archive is None:
        raise StudioBuildError(f"{prefix}-*.tar.gz is not in the peers folder")
    started = time.monotonic()
    out_dir = cache_root() / "addons" / f"{prefix}-{file_hash(archive)[:16]}"
    done = out_dir / "build.json"
    if not done.exists():
        source = unpack_archive(archive)
        work = out_dir.with_name(f"{out_dir.name}.work{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        # create_package.py writes into its own tree (version.py, pyproject.toml): use a copy.
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(".git", "package"))
        result = subprocess.run([sys.executable, "create_package.py"], cwd=work,
                                capture_output=True, text=True, timeout=600)
        zips = sorted((work / "package").glob("*.zip"))
        if result.returncode != 0 or len(zips) != 1:
            raise StudioBuildError(
                f"create_package.py of {prefix} failed ({result.returncode}):\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        out_dir.mkdir(parents=True, exist_ok=True)
        zip_path = out_dir / zips[0].name
        shutil.move(zips[0], zip_path)
        shutil.rmtree(work, ignore_errors=True)
        with zipfile.ZipFile(zip_path) as zf:
            info = _package_info(zf.read("package.py").decode())
        done.write_text(json.dumps({"name": info["name"], "version": info["version"],
                                    "zip": zip_path.name}))
    meta = json.loads(done.read_text())
    zip_path = out_dir / meta["zip"]
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        pyproject = (tomllib.loads(zf.read("private/pyproject.toml").decode())
                     if "private/pyproject.toml" in names else {})
    if timings is not None:
        timings.add(f"build {prefix}", started)
    return AddonBuild(meta["name"], meta["version"], zip_path, pyproject)


# --- dependency package --------------------------------------------------------------------------

def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _bump(parts: list[int], index: int) -> str:
    upper = parts[:index + 1]
    upper[index] += 1
    return ".".join(str(p) for p in upper)


def poetry_to_pep440(constraint: str) -> str:
    """A Poetry version constraint (``^1.2``, ``~1.2``, ``1.6.*``, ``*``) as a PEP 440 specifier."""
    specs = []
    for part in (p.strip() for p in constraint.split(",")):
        if part in ("", "*"):
            continue
        if part[0] in "^~" and not part.startswith("~="):
            base = part[1:].strip()
            nums = [int(n) for n in re.findall(r"\d+", base)[:3]]
            if part[0] == "^":
                index = next((i for i, n in enumerate(nums) if n), len(nums) - 1)
            else:
                index = 0 if len(nums) == 1 else 1
            specs.append(f">={base},<{_bump(nums, index)}")
        elif part[0] in "<>=!~":
            specs.append(part)
        else:
            specs.append(f"=={part}")
    return ",".join(specs)


def addon_requirements(builds: Iterable[AddonBuild],
                       platform_name: str = PLATFORM) -> tuple[list[str], list[str]]:
    """Requirement lines of the add-ons' clients: (``dependencies``, ``runtime``).

    As ynput's dependency tool reads them: ``[tool.poetry.dependencies]`` go to the package's
    ``dependencies/`` folder, ``[ayon.runtimeDependencies]`` (with per-platform tables) to
    ``runtime/``.
    """
    def collect(tables: Iterable[dict[str, Any]]) -> list[str]:
        merged: dict[str, tuple[str, list[str]]] = {}
        for table in tables:
            for name, value in table.items():
                if name.lower() == "python":
                    continue
                if name in ("windows", "linux", "darwin") and isinstance(value, dict):
                    if name == platform_name:
                        for sub_name, sub_value in value.items():
                            add(merged, sub_name, sub_value)
                    continue
                add(merged, name, value)
        return [name + ",".join(s for s in specs if s)
                for name, specs in (merged[key] for key in sorted(merged))]

    def add(merged: dict[str, tuple[str, list[str]]], name: str, value: Any) -> None:
        if isinstance(value, dict):
            if "version" not in value:
                raise StudioBuildError(f"unsupported requirement source for {name}: {value}")
            value = value["version"]
        key = canonical_name(name)
        merged.setdefault(key, (name, []))[1].append(poetry_to_pep440(str(value)))

    builds = list(builds)
    deps = collect(b.client_pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
                   for b in builds)
    runtime = collect(b.client_pyproject.get("ayon", {}).get("runtimeDependencies", {})
                      for b in builds)
    return deps, runtime


def official_launcher_pins() -> dict[str, str] | None:
    """Distributions (canonical name -> version) of ynput's official launcher, from its uv.lock.

    The closure of its main dependencies for this platform, without ``pre-commit`` (its own
    tooling); its Qt binding is not in the lock. None when its archive is not at hand.
    """
    archive = peer_archive("ayon-launcher")
    if archive is None:
        return None
    lock = tomllib.loads((unpack_archive(archive) / "uv.lock").read_text())
    packages = {canonical_name(p["name"]): p for p in lock.get("package", [])}
    root = next((p for p in lock.get("package", [])
                 if p.get("source", {}).get("editable") == "."), None)
    if root is None:
        return None
    sys_platform = {"windows": "win32"}.get(PLATFORM, PLATFORM)

    def applies(dep: dict[str, Any]) -> bool:
        found = re.findall(r"sys_platform\s*(==|!=)\s*'([^']+)'", dep.get("marker", ""))
        return all((op == "==") == (value == sys_platform) for op, value in found)

    pins: dict[str, str] = {}
    todo = [canonical_name(d["name"]) for d in root.get("dependencies", [])
            if applies(d) and canonical_name(d["name"]) != "pre-commit"]
    while todo:
        name = todo.pop()
        if name in pins or name not in packages:
            continue
        pins[name] = packages[name]["version"]
        todo += [canonical_name(dep["name"])
                 for dep in packages[name].get("dependencies", []) if applies(dep)]
    return pins


def official_launcher_modules() -> set[str]:
    """Canonical names of the distributions ynput's official launcher ships for add-ons.

    Its locked dependencies and its Qt binding; the top-level names of its ``pyproject.toml``
    when its archive is not at hand.
    """
    pins = official_launcher_pins()
    names = set(pins) if pins else {canonical_name(n) for n in _OFFICIAL_TOP_LEVEL}
    return names | {canonical_name(n) for n in _OFFICIAL_RUNTIME}


def _installed_dists(site: Path) -> dict[str, Path]:
    """Canonical name -> ``*.dist-info`` folder of a ``pip --target`` folder."""
    out = {}
    for info in site.glob("*.dist-info"):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        metadata = info / "METADATA"
        if metadata.exists():
            match = re.search(r"^Name:\s*(\S+)", metadata.read_text(errors="replace"), re.M)
            if match:
                name = match.group(1)
        out[canonical_name(name)] = info
    return out


def _dist_field(info: Path, name: str) -> str:
    """A field of an installed distribution's METADATA ("" when absent)."""
    text = (info / "METADATA").read_text(errors="replace")
    match = re.search(rf"^{name}:\s*(\S+)", text, re.M)
    return match.group(1) if match else ""


def _remove_dist(site: Path, info: Path) -> None:
    """Remove an installed distribution (the files of its RECORD, then its metadata)."""
    record = info / "RECORD"
    tops: set[Path] = set()
    if record.exists():
        for line in record.read_text(errors="replace").splitlines():
            rel = line.split(",", 1)[0]
            if not rel or rel.startswith(".."):
                continue
            path = site / rel
            if path.is_file() or path.is_symlink():
                path.unlink()
            tops.add(site / Path(rel).parts[0])
    for top in tops:
        if top.is_dir():
            # Drop folders the removal left empty (bottom-up).
            for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
                path = Path(dirpath)
                for cache in path.glob("__pycache__"):
                    shutil.rmtree(cache, ignore_errors=True)
                if not any(path.iterdir()):
                    path.rmdir()
    shutil.rmtree(info, ignore_errors=True)


@dataclass
class DependencyPackage:
    """A dependency package zip with what the server must know about it."""

    filename: str
    zip_path: Path
    platform: str
    checksum: str  # md5
    size: int
    python_modules: dict[str, str]
    source_addons: dict[str, str]
    requirements: list[str] = field(default_factory=list)
    runtime_requirements: list[str] = field(default_factory=list)


def _pip_target(requirements: list[str], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if not requirements:
        return
    # The launcher's own Python (this virtual environment's) decides the wheels; pip's cache
    # makes a rebuild cheap.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-compile", "--no-warn-script-location", "--target", str(target), *requirements],
        capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise StudioBuildError(f"pip install --target {target.name} failed:\n"
                               f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def _zip_tree(zf: zipfile.ZipFile, root: Path, prefix: str) -> None:
    """Add a folder under ``prefix/``, in a stable order with fixed times (same bytes each run)."""
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        info = zipfile.ZipInfo(f"{prefix}/{path.relative_to(root).as_posix()}",
                               date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, path.read_bytes())


def build_dependency_package(builds: list[AddonBuild],
                             timings: Timings | None = None) -> DependencyPackage:
    """The add-ons' client requirements as a dependency package for this platform (cached).

    ``pip install --target`` for this Python, minus what the official launcher ships (a studio's
    dependency packages are made against it), zipped with ``dependencies/`` and ``runtime/`` at
    the root.
    """
    started = time.monotonic()
    deps, runtime = addon_requirements(builds)
    shipped = official_launcher_modules()
    python_tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    key = text_hash(json.dumps([deps, runtime, sorted(shipped), python_tag, PLATFORM]))[:12]
    out_dir = cache_root() / "dependency-packages" / key
    filename = f"studio-deps-{key}-{python_tag}-{PLATFORM}.zip"
    zip_path = out_dir / filename
    meta_path = out_dir / "package.json"
    source_addons = {b.name: b.version for b in builds}
    if not meta_path.exists():
        work = out_dir.with_name(f"{key}.work{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        _pip_target(deps, work / "dependencies")
        _pip_target(runtime, work / "runtime")
        modules: dict[str, str] = {}
        for site in (work / "dependencies", work / "runtime"):
            shutil.rmtree(site / "bin", ignore_errors=True)
            for name, info in _installed_dists(site).items():
                if name in shipped:
                    _remove_dist(site, info)
                else:
                    modules[_dist_field(info, "Name")] = _dist_field(info, "Version")
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp_zip = work / filename
        with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            _zip_tree(zf, work / "dependencies", "dependencies")
            if any((work / "runtime").iterdir()):
                _zip_tree(zf, work / "runtime", "runtime")
        shutil.move(tmp_zip, zip_path)
        meta_path.write_text(json.dumps({
            "python_modules": dict(sorted(modules.items())),
            "md5": file_hash(zip_path, "md5"),
        }, indent=2))
        shutil.rmtree(work, ignore_errors=True)
    meta = json.loads(meta_path.read_text())
    if timings is not None:
        timings.add("build dependency package", started)
    return DependencyPackage(
        filename=filename, zip_path=zip_path, platform=PLATFORM, checksum=meta["md5"],
        size=zip_path.stat().st_size, python_modules=meta["python_modules"],
        source_addons=source_addons, requirements=deps, runtime_requirements=runtime)


# --- the small application -----------------------------------------------------------------------

def write_app_script(folder: Path) -> Path:
    """A tiny executable "DCC": it records its argv and some variables, then exits.

    It writes ``pid=``, ``arg=`` and ``env:NAME=`` lines to ``$STUDIO_APP_RECORD`` (through a
    temporary file and a rename, so a reader never sees half of it).
    """
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "myapp-1-0"
    names = " ".join(APP_RECORDED_VARS)
    content = (
        "#!/bin/sh\n"
        "# Stand-in application for tests: records how it was started.\n"
        f'out="${{{APP_RECORD_ENV}:-/tmp/studio-myapp-record.txt}}"\n'
        'tmp="$out.tmp.$$"\n'
        "{\n"
        '  echo "pid=$$"\n'
        '  echo "cwd=$(pwd)"\n'
        '  for a in "$@"; do echo "arg=$a"; done\n'
        f"  for v in {names}; do\n"
        '    printf \'env:%s=%s\\n\' "$v" "$(printenv "$v")"\n'
        "  done\n"
        '} > "$tmp" && mv "$tmp" "$out"\n'
    )
    if not script.exists() or script.read_text() != content:
        script.write_text(content)
    script.chmod(0o755)
    return script


def read_app_record(path: Path) -> dict[str, Any]:
    """What the small app recorded: ``{"pid", "cwd", "args": [...], "env": {...}}``."""
    record: dict[str, Any] = {"args": [], "env": {}}
    for line in path.read_text().splitlines():
        if line.startswith("env:"):
            name, _, value = line[4:].partition("=")
            record["env"][name] = value
        elif line.startswith("arg="):
            record["args"].append(line[4:])
        else:
            name, _, value = line.partition("=")
            record[name] = value
    return record


# --- on the server ------------------------------------------------------------------------------

@dataclass
class StudioBundle:
    """A real studio bundle installed on a real server, and the context to use it in."""

    server: Any
    url: str
    bundle_name: str
    project_name: str
    folder_path: str
    task_name: str
    app_name: str
    app_executable: Path
    addons: dict[str, str]
    addon_zips: dict[str, Path]
    dependency_package: DependencyPackage
    installer_version: str = INSTALLER_VERSION
    timings: Timings = field(default_factory=Timings)


def _listed_addons(con: Any) -> dict[str, set[str]]:
    return {a["name"]: set(a.get("versions", {}))
            for a in con.get_addons_info(details=False)["addons"]}


def _app_settings(settings: dict[str, Any], executable: Path) -> dict[str, Any]:
    """Studio settings of the applications add-on with our app group in ``additional_apps``."""
    settings = json.loads(json.dumps(settings))
    apps = settings.setdefault("applications", {})
    others = [a for a in apps.get("additional_apps", []) if a.get("name") != APP_GROUP]
    empty = {"windows": [], "linux": [], "darwin": []}
    apps["additional_apps"] = [*others, {
        "enabled": True,
        "name": APP_GROUP,
        "label": "My App",
        # A host name makes the app a "host": the context (AYON_WORKDIR, last workfile) is set.
        "host_name": APP_GROUP,
        "icon": "",
        "environment": json.dumps(APP_GROUP_ENV),
        "variants": [{
            "name": APP_VARIANT,
            "label": "1.0",
            "group_label": "",
            "show_grouped": True,
            "executables": {**empty, PLATFORM: [str(executable)]},
            "arguments": dict(empty),
            "environment": json.dumps(APP_VARIANT_ENV),
            "redirect_output": False,
        }],
    }]
    return settings


def _ensure_project(server: Any, con: Any, project_name: str) -> None:
    """The project (work root in the harness's folder) with our folder and task."""
    if con.get_project(project_name) is None:
        server.create_project(project_name, project_name.replace("_", "")[-10:],
                              {FOLDER_PATH: (FOLDER_TYPE, [(TASK_NAME, TASK_TYPE)])})
        return
    folder = con.get_folder_by_path(project_name, FOLDER_PATH)
    folder_id = folder["id"] if folder else con.create_folder(
        project_name, FOLDER_NAME, folder_type=FOLDER_TYPE)
    if con.get_task_by_name(project_name, folder_id, TASK_NAME) is None:
        con.create_task(project_name, TASK_NAME, TASK_TYPE, folder_id)


def install_studio_bundle(server: Any, *, production: bool = True,
                          name_prefix: str = "studio") -> StudioBundle:
    """Build (cached) and install the studio bundle, project and app on ``server``.

    ``server`` is the harness's ``RealServer`` (``url``, ``admin_api()``, ``install_addon_zip``,
    ``upload_dependency_package``, ``create_bundle``, ``create_project``, ``addon_settings``...).
    Idempotent: what is already on the server is kept. With ``production`` the bundle becomes
    the server's production bundle: give it a server of its own (the ``studio_server`` fixture).
    """
    timings = Timings()
    core = build_addon("ayon-core", timings)
    applications = build_addon("ayon-applications", timings)
    builds = [core, applications]
    package = build_dependency_package(builds, timings)
    executable = write_app_script(cache_root() / "studio-app")

    con = server.admin_api()
    started = time.monotonic()
    listed = _listed_addons(con)
    missing = [b for b in builds if b.version not in listed.get(b.name, set())]
    if missing and hasattr(server, "_upload_addon") and hasattr(server, "restart"):
        # The real server lists new add-ons only after a restart: one restart for all of them.
        for build in missing:
            server._upload_addon(build.zip_path.read_bytes())
        server.restart()
    else:
        for build in missing:
            server.install_addon_zip(build.zip_path)
    timings.add("install add-ons", started)

    started = time.monotonic()
    known = {p["filename"] for p in con.get_dependency_packages()["packages"]}
    if package.filename not in known:
        server.upload_dependency_package(
            package.zip_path, platform=package.platform, source_addons=package.source_addons,
            python_modules=package.python_modules, installer_version=INSTALLER_VERSION)
    timings.add("upload dependency package", started)

    started = time.monotonic()
    addons = {b.name: b.version for b in builds}
    key = text_hash(json.dumps([addons, package.filename, str(executable), production]))[:8]
    bundle_name = f"{name_prefix}-{key}"
    project_name = f"{name_prefix}_{key}".replace("-", "_")
    current = server.addon_settings(applications.name, applications.version)
    wanted = _app_settings(current, executable)
    if wanted != current:
        server.set_addon_settings(applications.name, applications.version, wanted)
    bundles = {b["name"]: b for b in con.get_bundles().get("bundles", [])}
    if bundle_name not in bundles:
        server.create_bundle(
            bundle_name, addons, {package.platform: package.filename},
            is_production=production, is_staging=False, is_dev=False, active_user=None,
            installer_version=INSTALLER_VERSION, addon_development=None)
    elif production and not bundles[bundle_name].get("isProduction"):
        server.update_bundle(bundle_name, isProduction=True)
    _ensure_project(server, con, project_name)
    timings.add("bundle, settings, project", started)

    return StudioBundle(
        server=server, url=server.url, bundle_name=bundle_name, project_name=project_name,
        folder_path=FOLDER_PATH, task_name=TASK_NAME, app_name=APP_FULL_NAME,
        app_executable=executable, addons=addons,
        addon_zips={b.name: b.zip_path for b in builds}, dependency_package=package,
        timings=timings)
