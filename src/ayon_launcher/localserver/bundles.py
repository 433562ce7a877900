"""Bundles and settings: creation/update rules and settings resolution per bundle and variant."""

from __future__ import annotations

import copy
import re
from typing import Any

from ayon_launcher.localserver.store import Store, now_iso

NAME_RE = re.compile(r"^[a-zA-Z0-9_]([a-zA-Z0-9_\.\-]*[a-zA-Z0-9_])?$")
_PLATFORMS = {"windows", "linux", "darwin"}


class BundleError(ValueError):
    """A bundle request the real server refuses (400; 404 when missing, 403 for non-admins)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _invalid(message: str) -> BundleError:
    return BundleError(f"Request validation error: {message}")


def _check_addons(value: Any, key: str = "addons") -> dict[str, str | None]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _invalid(f"'{key}' must be an object")
    out: dict[str, str | None] = {}
    for name, version in value.items():
        if version is not None and not isinstance(version, str):
            raise _invalid(f"values of '{key}' must be strings or null")
        out[name] = None if isinstance(version, str) and version.lower() == "none" else version
    return out


def _check_packages(value: Any) -> dict[str, str | None]:
    packages = _check_addons(value, "dependencyPackages")
    unknown = sorted(set(packages) - _PLATFORMS)
    if unknown:
        raise _invalid(f"'dependencyPackages' has unknown platforms: {', '.join(unknown)}")
    return packages


def _check_development(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise _invalid("'addonDevelopment' must be an object")
    out = {}
    for name, item in value.items():
        if not isinstance(item, dict):
            raise _invalid("'addonDevelopment' items must be objects")
        out[name] = {"enabled": bool(item.get("enabled", True)), "path": item.get("path") or ""}
    return out


def _version_tuple(version: str) -> tuple[tuple[int, ...], bool] | None:
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.\-]+)?(\+.*)?$", version.strip())
    if not match:
        return None
    return tuple(int(match.group(i)) for i in (1, 2, 3)), match.group(4) is None


def version_matches(version: str, requirements: str) -> bool:
    """``version`` meets every comma-separated condition (``>=1.0.0,<2.0.0``), as semver's
    ``match`` reads them; a pre-release sorts before its release."""
    have = _version_tuple(version)
    if have is None:
        return False
    for condition in requirements.split(","):
        match = re.match(r"^\s*(>=|<=|==|!=|>|<)?\s*(\S+)\s*$", condition)
        want = _version_tuple(match.group(2)) if match else None
        if want is None:
            return False
        left, right = (have[0], have[1]), (want[0], want[1])
        op = match.group(1) or "=="
        ok = {">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right,
              "==": left == right, "!=": left != right}[op]
        if not ok:
            return False
    return True


def check_bundle(store: Store, bundle: dict[str, Any]) -> dict[str, Any]:
    """The real server's bundle check: add-on versions exist, launcher and server versions and
    required add-ons match what each add-on's package.py declares."""
    from ayon_launcher.localserver.app import SERVER_VERSION

    issues: list[dict[str, Any]] = []

    def issue(addon: str, message: str, required: str | None = None,
              severity: str = "error") -> None:
        issues.append({"severity": severity, "addon": addon, "message": message,
                       "requiredAddon": required})

    addons = bundle.get("addons") or {}
    for name, version in addons.items():
        if version is None:
            continue
        record = store.get("addon", f"{name}/{version}")
        if record is None:
            issue(name, f"{name} {version} is not active", name)
            continue
        compat = record.get("compatibility") or {}
        if compat.get("serverVersion") and not version_matches(SERVER_VERSION,
                                                               compat["serverVersion"]):
            issue(name, f"Ayon server {compat['serverVersion']} is required")
        if compat.get("launcherVersion"):
            installer = bundle.get("installerVersion")
            if installer is None:
                issue(name, "Launcher is required")
                continue
            if not version_matches(installer, compat["launcherVersion"]):
                issue(name, f"Launcher {compat['launcherVersion']} is required")
        for other, wanted in (compat.get("requiredAddons") or {}).items():
            present = addons.get(other)
            if present is None:
                if wanted is not None:
                    issue(name, f"{other} is required", other)
            elif wanted is None:
                issue(name, f"{other} must not be used", other)
            elif not version_matches(present, wanted):
                issue(name, f"{other} {wanted} is required", other)
        for other, wanted in (compat.get("softRequiredAddons") or {}).items():
            present = addons.get(other)
            if present is not None and wanted is not None \
                    and not version_matches(present, wanted):
                issue(name, f"{other} {wanted} is required", other)
        for other, wanted in (compat.get("compatibleAddons") or {}).items():
            present = addons.get(other)
            if present is not None and wanted is not None \
                    and not version_matches(present, wanted):
                issue(name, f"only compatible with {other} {wanted}", other, "warning")
    return {"success": not any(i["severity"] == "error" for i in issues), "issues": issues}


def _raise_for_check(result: dict[str, Any]) -> None:
    if not result["success"]:
        error = [i for i in result["issues"] if i["severity"] == "error"][-1]
        raise BundleError(f"Failed to validate bundle: {error['addon']}: {error['message']}")


def _unset_exclusive(store: Store, bundle: dict[str, Any], flags: tuple[str, ...],
                     active_user: str | None) -> None:
    """Only one production and one staging bundle; a user is active in one dev bundle."""
    for other in store.list("bundle"):
        if other["name"] == bundle["name"]:
            continue
        changed = False
        for flag in flags:
            if other.get(flag):
                other[flag] = False
                changed = True
        if active_user and other.get("activeUser") == active_user:
            other["activeUser"] = None
            changed = True
        if changed:
            store.put("bundle", other["name"], other)


def create_bundle(store: Store, body: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """``POST /api/bundles`` as the real server does it (validation, checks, exclusivity)."""
    name = body.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _invalid("bundle 'name' is missing or not a valid name")
    installer = body.get("installerVersion")
    if installer is not None and not isinstance(installer, str):
        raise _invalid("'installerVersion' must be a string")
    bundle = {
        "name": name,
        "createdAt": now_iso(),
        "addons": _check_addons(body.get("addons") or {}),
        "installerVersion": installer,
        "dependencyPackages": _check_packages(body.get("dependencyPackages") or {}),
        "addonDevelopment": _check_development(body.get("addonDevelopment") or {}),
        "isProduction": bool(body.get("isProduction")),
        "isStaging": bool(body.get("isStaging")),
        "isArchived": False,  # the real server ignores isArchived on creation
        "isDev": bool(body.get("isDev")),
        "isProject": bool(body.get("isProject")),
        "activeUser": body.get("activeUser"),
    }
    if not force:
        _raise_for_check(check_bundle(store, bundle))
    if bundle["isProject"]:
        if bundle["isProduction"] or bundle["isStaging"]:
            raise BundleError("Project bundles cannot be set as production or staging")
        if bundle["isDev"]:
            raise BundleError("Project bundles cannot be set as development")
    with store.transaction():
        if store.get("bundle", name) is not None:
            # The real server answers a duplicate name from its database error handler.
            raise BundleError(f"Bundle with name '{name}' already exists.", 409)
        flags = tuple(f for f in ("isProduction", "isStaging") if bundle[f])
        _unset_exclusive(store, bundle, flags, bundle["activeUser"])
        store.put("bundle", name, bundle)
    return bundle


def update_bundle(store: Store, name: str, changes: dict[str, Any],
                  force: bool = False) -> dict[str, Any]:
    """``PATCH /api/bundles/{name}`` with the real server's rules."""
    bundle = store.get("bundle", name)
    if bundle is None:
        raise BundleError("Bundle not found", 404)
    if changes.get("isArchived") and (bundle.get("isProduction") or bundle.get("isStaging")):
        raise BundleError("Cannot archive bundle that is production or staging")
    if bundle.get("isProject"):
        if changes.get("isProduction") or changes.get("isStaging"):
            raise BundleError("Cannot update production or staging bundle")
        if changes.get("isDev"):
            raise BundleError("Cannot update dev bundle")
    active_user = None
    if bundle.get("isDev"):
        if "activeUser" in changes:
            bundle["activeUser"] = active_user = changes["activeUser"]
        if changes.get("addonDevelopment") is not None:
            bundle["addonDevelopment"] = _check_development(changes["addonDevelopment"])
        if changes.get("installerVersion") is not None:
            bundle["installerVersion"] = changes["installerVersion"]
    else:
        bundle["activeUser"] = None
    if changes.get("dependencyPackages") is not None:
        bundle["dependencyPackages"] = _check_packages(changes["dependencyPackages"])
    if changes.get("addons") is not None:
        addons = dict(bundle.get("addons") or {})
        for addon_name, version in _check_addons(changes["addons"]).items():
            if not any(a["name"] == addon_name for a in store.list("addon")):
                continue  # the real server ignores unknown add-ons here
            if version is None:
                addons.pop(addon_name, None)
            else:
                addons[addon_name] = version
        bundle["addons"] = addons
    if not force:
        _raise_for_check(check_bundle(store, bundle))
    flags = []
    for flag in ("isArchived", "isDev", "isProduction", "isStaging"):
        if changes.get(flag) is not None:
            bundle[flag] = bool(changes[flag])
            if bundle[flag] and flag in ("isProduction", "isStaging"):
                flags.append(flag)
    with store.transaction():
        _unset_exclusive(store, bundle, tuple(flags), active_user)
        store.put("bundle", name, bundle)
    return bundle


def bundles_response(store: Store, archived: bool = False) -> dict[str, Any]:
    """``GET /api/bundles``: newest first, archived ones only on request."""
    bundles = [b for b in store.list("bundle") if archived or not b.get("isArchived")]
    bundles.sort(key=lambda b: b.get("createdAt") or "", reverse=True)
    fields = ("name", "createdAt", "addons", "installerVersion", "dependencyPackages",
              "addonDevelopment", "isProduction", "isStaging", "isArchived", "isDev",
              "isProject", "activeUser")
    listed = [{key: b.get(key, False if key.startswith("is") else None) for key in fields}
              for b in bundles]
    for item in listed:
        for key in ("addons", "dependencyPackages", "addonDevelopment"):
            item[key] = item[key] or {}
    return {
        "bundles": listed,
        "productionBundle": next((b["name"] for b in bundles if b.get("isProduction")), None),
        "stagingBundle": next((b["name"] for b in bundles if b.get("isStaging")), None),
        "devBundles": [b["name"] for b in bundles if b.get("isDev")],
    }


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _override_key(name: str, version: str, variant: str, project: str = "") -> str:
    return f"{name}/{version}/{variant}/{project}"


def studio_settings(store: Store, addon: dict[str, Any], variant: str) -> dict[str, Any]:
    override = store.get("settings_override", _override_key(addon["name"], addon["version"],
                                                            variant)) or {}
    return deep_merge(addon.get("settings") or {}, override)


def project_settings(store: Store, addon: dict[str, Any], variant: str,
                     project: str) -> dict[str, Any]:
    values = deep_merge(studio_settings(store, addon, variant), addon.get("projectSettings") or {})
    override = store.get("settings_override", _override_key(addon["name"], addon["version"],
                                                            variant, project)) or {}
    return deep_merge(values, override)


def set_settings_override(store: Store, name: str, version: str, variant: str,
                          values: dict[str, Any], project: str = "") -> None:
    store.put("settings_override", _override_key(name, version, variant, project), values)


def resolve_bundle(store: Store, bundle_name: str | None, variant: str) -> dict[str, Any]:
    """The bundle of a settings request: named, else production/staging (or the dev bundle
    named by the variant); 404 "Bundle not found" as the real server answers."""
    if bundle_name:
        bundle = store.get("bundle", bundle_name)
    elif variant in {"production", "staging"}:
        flag = "isStaging" if variant == "staging" else "isProduction"
        bundle = next((b for b in store.list("bundle") if b.get(flag)), None)
    else:
        bundle = store.get("bundle", variant)  # a dev bundle's variant is its name
    if bundle is None:
        raise BundleError("Bundle not found", 404)
    return bundle
