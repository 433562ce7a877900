"""What makes an installer this launcher's own, and the official-launcher contract it implements.

A real studio's server also lists ynput's official launcher installers, and its bundles name
their versions. This launcher must never switch to one of those by accident, so its installers
carry an identity the server keeps:

* the installer version is ``{CONTRACT_VERSION}+{KIND}.{own version}`` — semver build metadata,
  which the server keeps verbatim and ignores when it checks add-ons' ``ayon_launcher_version``
  ranges against a bundle (so a bundle naming it passes the same checks as the official
  launcher whose contract this one implements);
* the file name starts with ``{FILE_PREFIX}``;
* ``pythonModules[KIND]`` holds the own version.

Only installers with all three are ever installed.
"""

from __future__ import annotations

import re

from ayon_launcher import __version__

# The one place that says which official AYON launcher's contract this launcher implements
# (environment variables, command line, ``ayon-launcher://`` actions): add-ons' launcher
# ranges are checked against it.
CONTRACT_VERSION = "1.6.0"

KIND = "openlauncher"
FILE_PREFIX = "ayon-openlauncher-"
_BUILD_TAG = f"+{KIND}."
# Own versions fit semver build identifiers: digits, letters, '-' and dots.
# Patterns, not compiled objects: compiled (and cached by re) when first used, so that
# importing this module on every start compiles nothing.
OWN_VERSION_PATTERN = r"^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$"


def installer_version(own_version: str = __version__) -> str:
    """The installer version (as a bundle's ``installerVersion``) of ``own_version``."""
    return f"{CONTRACT_VERSION}{_BUILD_TAG}{own_version}"


def own_version_of(version: str | None) -> str | None:
    """This launcher's own version named by an installer version; None for another launcher."""
    if not version or _BUILD_TAG not in version:
        return None
    own = version.split(_BUILD_TAG, 1)[1]
    return own if re.match(OWN_VERSION_PATTERN, own) else None


def installer_filename(own_version: str, platform: str, python: str) -> str:
    """``ayon-openlauncher-0.2.0-linux-py3.11.zip``"""
    return f"{FILE_PREFIX}{own_version}-{platform}-py{python}.zip"


def is_own_installer(info: dict) -> bool:
    """True when a ``/api/desktop/installers`` record is one of this launcher's installers."""
    own = own_version_of(str(info.get("version") or ""))
    modules = info.get("pythonModules") or {}
    return (own is not None and str(info.get("filename", "")).startswith(FILE_PREFIX)
            and isinstance(modules, dict) and modules.get(KIND) == own)


# -- semver ranges as add-ons write them (">=1.1.0", ">=1.0.0,<2.0.0") -----------------------
_SEMVER = (  # a pattern: compiled (and cached) by re when used
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _key(version: str) -> tuple:
    match = re.match(_SEMVER, version.strip())
    if not match:
        raise ValueError(f"not a semantic version: {version!r}")
    major, minor, patch, pre = match.groups()
    numbers = (int(major), int(minor or 0), int(patch or 0))
    if pre is None:
        return (*numbers, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*numbers, 0, parts)


_OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def satisfies(version: str, requirement: str) -> bool:
    """Whether ``version`` meets every comma-separated condition of ``requirement``.

    As the server checks ``ayon_launcher_version``; a bare version means ``==``. Raises
    ValueError for a condition it cannot read."""
    for condition in requirement.split(","):
        condition = condition.strip()
        if not condition:
            continue
        op = next((o for o in (">=", "<=", "==", "!=", ">", "<") if condition.startswith(o)),
                  "==")
        bound = condition[len(op):] if condition.startswith(op) else condition
        if not _OPS[op](_key(version), _key(bound)):
            return False
    return True
