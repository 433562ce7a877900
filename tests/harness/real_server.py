"""ynput's real AYON server (ayon-backend) run privately for tests, seeded through its REST API.

Everything the server needs is private to one harness: a Postgres cluster on a unix socket in a
temporary folder, a redis-server on a unix socket, a ``/storage`` of its own (bind-mounted in a
mount namespace when the machine allows it) and a loopback TCP socket the harness binds itself,
so parallel sessions and fault tests (stopping the database) never disturb each other.

What is slow is cached under ``AYON_TEST_CACHE_DIR`` (default ``~/.cache/ayon-launcher-tests``),
keyed by the backend archive's sha256: the unpacked source and the backend's Python 3.13 venv.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from .rest import DEV_BUNDLE, DEV_USER, SERVICE_USER, RestAdmin
from .studio import peer_archive

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = "/root/.pyenv/versions/3.13.0/bin/python3"


def _say(message: str) -> None:
    """Progress for the person waiting (pytest shows it with -s, and in the log of .ci/run)."""
    print(f"[real-server] {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    path = Path(os.environ.get("AYON_TEST_CACHE_DIR")
                or Path.home() / ".cache" / "ayon-launcher-tests")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _cache_lock(name: str) -> Iterator[None]:
    """Serialise cache builds between parallel sessions."""
    with open(cache_dir() / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _find_source_root(folder: Path) -> Path | None:
    if (folder / "ayon_server").is_dir():
        return folder
    for child in sorted(folder.iterdir()) if folder.is_dir() else []:
        if (child / "ayon_server").is_dir():
            return child
    return None


def _source_key(source: Path) -> str:
    """Cache key of a source folder: the archive hash it came from, else its dependency files."""
    marker = source.parent.parent / "archive.sha256"
    if marker.is_file():
        return marker.read_text().strip()[:16]
    digest = hashlib.sha256(str(source.resolve()).encode())
    for name in ("pyproject.toml", "uv.lock"):
        if (source / name).is_file():
            digest.update((source / name).read_bytes())
    return "checkout-" + digest.hexdigest()[:16]


def backend_source() -> tuple[Path | None, str]:
    """The ayon-backend source folder, or None and the reason why there is none."""
    named = os.environ.get("AYON_BACKEND_SOURCE")
    if named:
        root = _find_source_root(Path(named).expanduser())
        if root is None:
            return None, f"AYON_BACKEND_SOURCE={named} holds no ayon-backend (no ayon_server/)"
        return root, ""
    archive = peer_archive("ayon-backend")  # ../shared/peers, or AYON_PEERS_DIR
    if archive is None:
        return None, ("real AYON server not available: set AYON_BACKEND_SOURCE to an "
                      "ayon-backend checkout or provide ayon-backend-*.tar.gz in "
                      "../shared/peers (or AYON_PEERS_DIR)")
    digest = _sha256(archive)
    target = cache_dir() / f"backend-{digest[:16]}"
    with _cache_lock(f"backend-{digest[:16]}"):
        root = _find_source_root(target / "src") if (target / "unpacked").exists() else None
        if root is None:
            _say(f"unpacking {archive.name} into {target}")
            shutil.rmtree(target / "src", ignore_errors=True)
            (target / "src").mkdir(parents=True)
            with tarfile.open(archive) as tar:
                tar.extractall(target / "src", filter="data")
            (target / "archive.sha256").write_text(digest)
            (target / "unpacked").write_text("")
            root = _find_source_root(target / "src")
    if root is None:
        return None, f"{archive} holds no ayon-backend (no ayon_server/)"
    return root, ""


def _backend_python(source: Path) -> Path:
    """The cached Python 3.13 venv with the backend installed (built once per source)."""
    venv = cache_dir() / f"venv-{_source_key(source)}"
    python = venv / "bin" / "python"
    with _cache_lock(venv.name):
        if (venv / "ready").exists() and python.exists():
            return python
        base = os.environ.get("AYON_BACKEND_PYTHON", DEFAULT_PYTHON)
        if not Path(base).exists():
            raise RuntimeError(f"no Python 3.13 for the backend at {base} "
                               "(set AYON_BACKEND_PYTHON)")
        _say(f"building the backend venv {venv} (once; about 1.5 minutes)")
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                       check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(source)],
                       check=True)
        (venv / "ready").write_text("")
        _say(f"backend venv ready in {time.monotonic() - started:.0f} s")
    return python


def _pg_bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for folder in reversed(versions):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return found


def services_missing() -> str:
    """Why Postgres or Redis cannot be started here ('' when both can)."""
    try:
        _pg_bin("initdb")
    except RuntimeError as exc:
        return str(exc)
    if not shutil.which("redis-server"):
        return "redis-server not found (apt-get install redis-server)"
    return ""


class _Postgres:
    """A private cluster in a temporary folder, reachable only through its unix socket."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ayon-test-pg-"))
        self.data = self.dir / "data"
        self.socket_dir = self.dir
        self.log = self.dir / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        if self._as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def init(self) -> None:
        self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", "ayon", "--auth=trust",
                   "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"])
        self.start()
        self._run([_pg_bin("createdb"), "-h", str(self.socket_dir), "-U", "ayon", "ayon"])

    def start(self) -> None:
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                   "-w", "-t", "60", "start"])

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    @property
    def url(self) -> str:
        return f"postgres://ayon:ayon@/ayon?host={self.socket_dir}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Redis:
    def __init__(self, folder: Path) -> None:
        self.socket = folder / "redis.sock"
        self.process: subprocess.Popen | None = None
        self.log = folder / "redis.log"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start (see {self.log})")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_NAMESPACE_OK: bool | None = None


def _private_storage_possible(storage: Path) -> bool:
    """Whether /storage can be bind-mounted privately (root with mount namespaces)."""
    global _NAMESPACE_OK
    if _NAMESPACE_OK is None:
        _NAMESPACE_OK = False
        if os.geteuid() == 0 and shutil.which("unshare") and os.path.exists("/storage"):
            probe = subprocess.run(
                ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount --bind "$0" /storage', str(storage)], capture_output=True)
            _NAMESPACE_OK = probe.returncode == 0
    return _NAMESPACE_OK


def _ensure_storage_root() -> None:
    """The backend hard-codes /storage/desktop and /storage/static: make /storage exist."""
    if os.path.lexists("/storage"):
        return
    target = cache_dir() / "storage"
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.symlink(target, "/storage")


def _client_zip_from_folder(client: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(client.rglob("*")):
            rel = path.relative_to(client).as_posix()
            if path.is_dir() or "__pycache__" in rel.split("/") or path.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(rel, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, path.read_bytes())
    return buffer.getvalue()


def real_addon_package(src_dir: Path, version: str | None = None) -> bytes:
    """An add-on package as ynput's server installs it: package.py, server/, private/client.zip.

    Built from the same source folder (and version rewriting) as the embedded server's
    package, with the ``client/`` folder zipped into ``private/client.zip`` as ayon-core's
    ``create_package.py`` lays it out.
    """
    from ayon_launcher.localserver.addon_packages import build_addon_package

    flat = build_addon_package(Path(src_dir), version=version)
    buffer = io.BytesIO()
    client = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(flat)) as source, \
            zipfile.ZipFile(client, "w", zipfile.ZIP_DEFLATED) as client_zip, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("client/"):
                member = zipfile.ZipInfo(info.filename[len("client/"):], info.date_time)
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = info.external_attr
                client_zip.writestr(member, data)
            else:
                out.writestr(info, data)
        client_zip.close()
        member = zipfile.ZipInfo("private/client.zip", date_time=(2024, 1, 1, 0, 0, 0))
        member.external_attr = 0o644 << 16
        out.writestr(member, client.getvalue())
    return buffer.getvalue()


class RealServer(RestAdmin):
    """A running ayon-backend with its credentials and admin helpers (all through REST)."""

    kind = "real"

    def __init__(self, workdir: Path, source: Path, python: Path) -> None:
        self.workdir = workdir
        self.source = source
        self.python = python
        self.admin_user = "admin"
        self.admin_password = "admin"
        self.service_api_key = ""
        self.storage = workdir / "storage"
        self.projects_root = workdir / "projects"
        self.log_path = workdir / "server.log"
        self._postgres = _Postgres()
        self._redis = _Redis(self._postgres.dir)
        self._sock: socket.socket | None = None
        self._port = 0
        self._process: subprocess.Popen | None = None
        self._admin_token: str | None = None
        self._bind()

    # -- lifecycle --------------------------------------------------------------------------

    def _bind(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(128)
        sock.set_inheritable(True)
        self._sock = sock
        self._port = sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
        env.update(
            AYON_POSTGRES_URL=self._postgres.url,
            AYON_REDIS_URL=self._redis.url,
            AYON_ADDONS_DIR=str(self.storage / "addons"),
            AYON_AVATAR_DIR=str(self.storage / "server" / "avatars"),
            AYON_FRONTEND_DIR=str(self.storage / "frontend"),
            AYON_DEFAULT_PROJECT_STORAGE_ROOT=str(self.storage / "server" / "projects"),
            AYON_MOTD_PATH=str(self.storage / "motd.md"),
            AYON_GEOIP_DB_PATH=str(self.storage / "GeoLite2-City.mmdb"),
            AYON_HTTP_LISTEN_ADDRESS="127.0.0.1",
            AYON_HTTP_LISTEN_PORT=str(self._port),
            AYON_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _wrap(self, args: list[str]) -> list[str]:
        """Run ``args`` with this harness's own /storage when the machine allows it."""
        if _private_storage_possible(self.storage):
            return ["unshare", "-m", "--propagation", "private", "sh", "-c",
                    'mount --bind "$0" /storage && exec "$@"', str(self.storage), *args]
        return args

    def _prepare(self) -> None:
        for sub in ("addons", "server/avatars", "server/projects", "desktop", "static",
                    "frontend"):
            (self.storage / sub).mkdir(parents=True, exist_ok=True)
        (self.storage / "frontend" / "index.html").write_text(
            "<html><body>AYON test server (no frontend build)</body></html>\n")
        self.projects_root.mkdir(parents=True, exist_ok=True)
        _ensure_storage_root()
        if not _private_storage_possible(self.storage):
            _say("no mount namespace here: this server shares /storage with others")
        self._postgres.init()
        self._redis.start()
        template = {"users": [{"name": self.admin_user, "password": self.admin_password,
                               "fullName": "Administrator", "isAdmin": True}]}
        with open(self.log_path, "a") as log:
            done = subprocess.run(self._wrap([str(self.python), "-m", "setup", "-"]),
                                  input=json.dumps(template).encode(), cwd=self.source,
                                  env=self._env(), stdout=log, stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"ayon-backend setup failed (see {self.log_path})")

    def start(self) -> None:
        """Start the server process on the harness's socket and wait until it answers."""
        if self._process and self._process.poll() is None:
            return
        if self._sock is None:
            self._bind()
        assert self._sock is not None
        fd = self._sock.fileno()
        code = ("import socket, sys, uvicorn\n"
                f"sock = socket.socket(fileno={fd})\n"
                "config = uvicorn.Config('ayon_server.api.server:app', log_level='warning')\n"
                "uvicorn.Server(config).run(sockets=[sock])\n")
        log = open(self.log_path, "a")
        try:
            self._process = subprocess.Popen(
                self._wrap([str(self.python), "-c", code]), cwd=self.source, env=self._env(),
                stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,), start_new_session=True)
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"ayon-backend exited (see {self.log_path})")
            try:
                info = requests.get(self.url + "/api/info", timeout=5)
                if info.status_code == 200 and requests.get(self.url + "/",
                                                            timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"ayon-backend did not answer within {timeout:.0f} s "
                           f"(see {self.log_path})")

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        """Stop the server and close its port: connections are refused until start()."""
        self._stop_process()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def restart(self) -> None:
        """Restart the server process; the port stays bound (clients wait, never refused)."""
        self._stop_process()
        self.start()
        self._admin_token = None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop_database(self) -> None:
        self._postgres.stop()

    def start_database(self) -> None:
        self._postgres.start()

    def close(self) -> None:
        self.stop()
        self._redis.stop()
        self._postgres.remove()

    # -- what only the real server does this way --------------------------------------------

    def create_user(self, name: str, password: str | None, *, is_admin: bool = False,
                    is_service: bool = False) -> None:
        """A user (``is_service``: a service user, which logs in with an API key only)."""
        body: dict[str, Any] = {"data": {"isAdmin": is_admin, "isService": is_service}}
        if password is not None:
            body["password"] = password
            self._remember_password(name, password)
        self.request("PUT", f"/api/users/{name}", json=body)

    def create_api_key(self, user: str) -> str:
        """Give ``user`` a new API key (the real server keeps one key per user)."""
        key = secrets.token_hex(16)
        self.request("PATCH", f"/api/users/{user}/password", json={"apiKey": key})
        return key

    def expire_token(self, token: str) -> None:
        """Let a session run out: its key leaves redis as when its time-to-live ends."""
        subprocess.run(["redis-cli", "-s", str(self._redis.socket), "DEL", f"session-{token}"],
                       check=True, capture_output=True)

    def wait_event(self, event_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.request("GET", f"/api/events/{event_id}").json()
            if event.get("status") == "finished":
                return event
            if event.get("status") in ("failed", "aborted"):
                raise RuntimeError(f"event {event_id} {event['status']}: "
                                   f"{event.get('description')}")
            time.sleep(0.2)
        raise RuntimeError(f"event {event_id} did not finish within {timeout:.0f} s")

    def _upload_addon(self, data: bytes) -> dict[str, Any]:
        response = self.request("POST", "/api/addons/install", data=data,
                                headers={"Content-Type": "application/octet-stream"})
        event = self.wait_event(response.json()["eventId"])
        summary = event.get("summary") or {}
        return {"name": summary.get("name"), "version": summary.get("version")}

    def install_addon_zip(self, path: str | Path) -> dict[str, Any]:
        """Upload an add-on package, wait for its install, restart so the server lists it."""
        result = self._upload_addon(Path(path).read_bytes())
        self.restart()
        return result

    def create_project(self, name: str, code: str,
                       hierarchy: dict[str, tuple[str, list[tuple[str, str]]]] | None = None,
                       *, attrib: dict[str, Any] | None = None) -> dict[str, str]:
        """Create a project from the server's default anatomy (work root in this harness's
        folder), then its folders and tasks; returns folder path -> id."""
        root = (self.projects_root).as_posix()
        anatomy = self.request("GET", "/api/anatomy/presets/_").json()
        anatomy["roots"] = [{"name": "work", "windows": root, "linux": root, "darwin": root}]
        self.request("POST", "/api/projects", json={"name": name, "code": code,
                                                    "anatomy": anatomy, "library": False})
        if attrib:
            self.request("PATCH", f"/api/projects/{name}", json={"attrib": attrib})
        return self.create_hierarchy(name, hierarchy or {})

    # -- the demo seed ----------------------------------------------------------------------

    def seed_demo(self) -> None:
        """The embedded server's demo data, made through the public REST API only."""
        from ayon_launcher.localserver import seed

        self.request("PUT", f"/api/users/{SERVICE_USER}", json={"data": {"isService": True}})
        self.service_api_key = self.create_api_key(SERVICE_USER)
        self.create_project(seed.DEMO_PROJECT, "demo", seed.DEMO_HIERARCHY,
                            attrib={"fps": 25.0, "frameStart": 1001, "frameEnd": 1100})
        production: dict[str, str] = {}
        staging: dict[str, str] = {}
        project_overrides: list[tuple[str, str, dict[str, Any]]] = []
        for folder in seed.demo_addon_folders():
            if not (folder / "server" / "__init__.py").is_file():
                _say(f"demo add-on {folder.name} has no server part: skipped")
                continue
            result = self._upload_addon(real_addon_package(folder))
            name, version = result["name"], result["version"]
            production[name] = staging[name] = version
            other = seed.STAGING_VERSIONS.get(name)
            if other:
                self._upload_addon(real_addon_package(folder, version=other))
                staging[name] = other
            if (folder / "project_settings.json").is_file():
                values = json.loads((folder / "project_settings.json").read_text())
                for each in {version, staging[name]}:
                    project_overrides.append((name, each, values))
        self.restart()
        for name, version, values in project_overrides:
            for variant in ("production", "staging"):
                # The real server stores what differs from the studio values: send them all.
                merged = {**self.addon_settings(name, version, variant=variant), **values}
                self.set_addon_settings(name, version, merged, project=seed.DEMO_PROJECT,
                                        variant=variant)
        package = self.workdir / f"demo_dependencies_{seed.platform_name()}.zip"
        package.write_bytes(seed.build_dependency_package())
        self.upload_dependency_package(package, python_modules={"ayon_demo_deps": "1.0.0"})
        packages = {seed.platform_name(): package.name}
        self.create_bundle(seed.PRODUCTION_BUNDLE, production, packages, is_production=True)
        self.create_bundle(seed.STAGING_BUNDLE, staging, packages, is_staging=True)
        self.create_bundle(DEV_BUNDLE, staging, packages, is_dev=True, active_user=DEV_USER)
        (self.workdir / "seeded.json").write_text(json.dumps({"at": time.time()}))


@contextlib.contextmanager
def start_real_server(workdir: Path) -> Iterator[RealServer]:
    """Bring up a private, demo-seeded ayon-backend; stop everything it started on exit."""
    source, reason = backend_source()
    if source is None:
        raise RuntimeError(reason)
    missing = services_missing()
    if missing:
        raise RuntimeError(missing)
    started = time.monotonic()
    python = _backend_python(source)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    server = RealServer(workdir, source, python)
    try:
        server._prepare()
        _say(f"database ready in {time.monotonic() - started:.1f} s")
        server.start()
        _say(f"server up on {server.url} in {time.monotonic() - started:.1f} s")
        server.seed_demo()
        _say(f"seeded in {time.monotonic() - started:.1f} s (log: {server.log_path})")
        yield server
    finally:
        server.close()
