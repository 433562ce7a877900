"""Typed views of the server's bundle, add-on and dependency-package payloads."""

from __future__ import annotations

import os
import sys

from ayon_launcher.support import paths
from ayon_launcher.support.records import FrozenRecord, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

DEFAULT_ALGORITHM = "sha256"


def platform_name() -> str:
    """The platform key the server uses: windows, linux or darwin."""
    # sys.platform rather than platform.system(): the platform module costs a ms to import.
    return {"win32": "windows", "cygwin": "windows", "darwin": "darwin"}.get(sys.platform,
                                                                             "linux")


class ServerSource(FrozenRecord):
    """A file served by the AYON server itself (needs the connection's auth headers)."""

    _fields = ("filename", "path", "type")

    def __init__(self, filename: str, path: str | None = None, type: str = "server") -> None:
        self._set(filename=filename, path=path, type=type)


class HttpSource(FrozenRecord):
    """A file on any http(s) URL, with optional extra request headers."""

    _fields = ("url", "headers", "filename", "type")

    def __init__(self, url: str, headers: tuple[tuple[str, str], ...] = (),
                 filename: str | None = None, type: str = "http") -> None:
        self._set(url=url, headers=headers, filename=filename, type=type)


class FilesystemSource(FrozenRecord):
    """A file on a (shared) filesystem; the path depends on the platform."""

    _fields = ("path", "type")

    def __init__(self, path: str, type: str = "filesystem") -> None:
        self._set(path=path, type=type)


Source = ServerSource | HttpSource | FilesystemSource


def parse_source(data: dict[str, Any], default_filename: str | None = None) -> Source | None:
    """Turn one ``clientSourceInfo``/``sources`` entry into a source; unknown types give None."""
    kind = data.get("type")
    if kind == "server":
        filename = data.get("filename") or default_filename
        return ServerSource(filename=filename, path=data.get("path")) if filename else None
    if kind == "http":
        # Older servers put the URL under "path".
        url = data.get("url") or data.get("path")
        if not url:
            return None
        headers = tuple(sorted((str(k), str(v)) for k, v in (data.get("headers") or {}).items()))
        return HttpSource(url=url, headers=headers, filename=data.get("filename"))
    if kind == "filesystem":
        value = data.get("path")
        if isinstance(value, dict):
            value = value.get(platform_name())
        return FilesystemSource(path=value) if value else None
    return None


def parse_sources(items: list[dict[str, Any]] | None,
                  default_filename: str | None = None) -> list[Source]:
    sources = []
    for item in items or []:
        if isinstance(item, dict):
            source = parse_source(item, default_filename)
            if source is not None:
                sources.append(source)
    return sources


class DistItem(Record):
    """One archive to make available locally: an add-on version or a dependency package."""

    _fields = ("kind", "name", "version", "checksum", "algorithm", "sources", "target", "size",
               "server_route", "pinned")

    def __init__(self, kind: str, name: str, version: str | None, checksum: str | None,
                 algorithm: str, sources: list[Source], target: Path, size: int | None = None,
                 server_route: str | None = None, pinned: bool = False) -> None:
        self.kind = kind  # "addon" or "dependency_package"
        self.name = name
        self.version = version
        self.checksum = checksum
        self.algorithm = algorithm
        self.sources = sources
        self.target = target
        self.size = size
        # Server route of the file for ServerSource (relative to the server URL).
        self.server_route = server_route
        # True when ``checksum`` is not the server's but the sha256 recorded by an earlier
        # install (the server announced none): a repair must bring back the same archive.
        self.pinned = pinned

    @property
    def label(self) -> str:
        if self.kind == "addon":
            return f"addon {self.name} {self.version}"
        if self.kind == "installer":
            return f"launcher installer {self.name}"
        return f"dependency package {self.name}"


class Bundle(Record):
    """A bundle as listed by ``GET /api/bundles``."""

    _fields = ("name", "addons", "dependency_packages", "is_production", "is_staging", "is_dev",
               "is_project", "active_user", "addon_development", "raw")

    def __init__(self, name: str, addons: dict[str, str] | None = None,
                 dependency_packages: dict[str, str] | None = None, is_production: bool = False,
                 is_staging: bool = False, is_dev: bool = False, is_project: bool = False,
                 active_user: str | None = None, addon_development: dict[str, Any] | None = None,
                 raw: dict[str, Any] | None = None) -> None:
        self.name = name
        self.addons = {} if addons is None else addons
        self.dependency_packages = {} if dependency_packages is None else dependency_packages
        self.is_production = is_production
        self.is_staging = is_staging
        self.is_dev = is_dev
        self.is_project = is_project  # a project bundle: add-on overrides for some projects
        self.active_user = active_user
        self.addon_development = {} if addon_development is None else addon_development
        self.raw = {} if raw is None else raw

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bundle:
        return cls(
            name=data["name"],
            addons={k: v for k, v in (data.get("addons") or {}).items() if v},
            dependency_packages=dict(data.get("dependencyPackages") or {}),
            is_production=bool(data.get("isProduction")),
            is_staging=bool(data.get("isStaging")),
            is_dev=bool(data.get("isDev")),
            is_project=bool(data.get("isProject")),
            active_user=data.get("activeUser"),
            addon_development=dict(data.get("addonDevelopment") or {}),
            raw=data,
        )

    def dependency_package(self) -> str | None:
        """Filename of this platform's dependency package, if any."""
        return self.dependency_packages.get(platform_name()) or None

    def dev_path(self, addon_name: str) -> str | None:
        """Local client path of an add-on under development (dev bundles only), ``~``
        expanded."""
        if not self.is_dev:
            return None
        info = self.addon_development.get(addon_name) or {}
        if info.get("enabled") and info.get("path"):
            value = info["path"]
            if isinstance(value, dict):
                value = value.get(platform_name())
            return os.path.normpath(os.path.expanduser(value)) if value else None
        return None

    @property
    def variant(self) -> str:
        """Settings variant of the bundle: production, staging or (dev) the bundle name."""
        if self.is_dev:
            return self.name
        return "staging" if self.is_staging and not self.is_production else "production"


def addon_dir(name: str, version: str) -> Path:
    return paths.addons_dir() / f"{name}_{version}"


def dependency_package_dir(filename: str) -> Path:
    return paths.dependency_packages_dir() / package_dir_name(filename)


def package_dir_name(filename: str) -> str:
    """Folder name of a dependency package: its filename without the archive extension."""
    for ext in (".tar.gz", ".tgz", ".zip", ".tar"):
        if filename.lower().endswith(ext):
            return filename[: -len(ext)]
    return filename


def addon_item(name: str, version: str, version_info: dict[str, Any]) -> DistItem:
    """The distribution item of an add-on version from ``GET /api/addons?details=1``."""
    checksum = version_info.get("checksum") or version_info.get("hash")
    return DistItem(
        kind="addon",
        name=name,
        version=version,
        checksum=checksum,
        algorithm=(version_info.get("checksumAlgorithm") or DEFAULT_ALGORITHM).lower(),
        sources=parse_sources(version_info.get("clientSourceInfo")),
        target=addon_dir(name, version),
        size=version_info.get("size"),
        # The real server serves client archives without the /api prefix (ayon_api.get_addon_url).
        server_route=f"addons/{name}/{version}/private/",
    )


def dependency_item(package: dict[str, Any]) -> DistItem:
    """The distribution item of a package from ``GET /api/desktop/dependencyPackages``."""
    filename = package["filename"]
    return DistItem(
        kind="dependency_package",
        name=filename,
        version=None,
        checksum=package.get("checksum"),
        algorithm=(package.get("checksumAlgorithm") or DEFAULT_ALGORITHM).lower(),
        sources=parse_sources(package.get("sources"), default_filename=filename)
        or [ServerSource(filename=filename)],
        target=dependency_package_dir(filename),
        size=package.get("size"),
        server_route="api/desktop/dependencyPackages/",
    )
