"""Bundles and settings: creation/update rules and settings resolution per bundle and variant."""

from __future__ import annotations

import copy
from typing import Any

from .store import Store, now_iso

_FLAGS = ("isProduction", "isStaging", "isDev")


class BundleError(ValueError):
    """A bundle request that breaks the rules (answered with 400, or 404 when missing)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _check_mapping(body: dict[str, Any], key: str) -> None:
    value = body.get(key)
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise BundleError(f"'{key}' must be an object")
    for item in value.values():
        if item is not None and not isinstance(item, str):
            raise BundleError(f"Values of '{key}' must be strings or null")


def _apply_exclusive_flags(store: Store, bundle: dict[str, Any]) -> None:
    """Only one production and one staging bundle (and one dev bundle per user)."""
    if bundle.get("isDev") and (bundle.get("isProduction") or bundle.get("isStaging")):
        raise BundleError("A dev bundle cannot be production or staging")
    for other in store.list("bundle"):
        if other["name"] == bundle["name"]:
            continue
        changed = False
        for flag in ("isProduction", "isStaging"):
            if bundle.get(flag) and other.get(flag):
                other[flag] = False
                changed = True
        if (bundle.get("isDev") and other.get("isDev") and bundle.get("activeUser")
                and other.get("activeUser") == bundle.get("activeUser")):
            other["activeUser"] = None
            changed = True
        if changed:
            store.put("bundle", other["name"], other)


def create_bundle(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        raise BundleError("Bundle 'name' is required")
    if store.get("bundle", name) is not None:
        raise BundleError(f"Bundle '{name}' already exists", 409)
    if not isinstance(body.get("addons"), dict):
        raise BundleError("Bundle 'addons' must be an object of add-on versions")
    _check_mapping(body, "addons")
    _check_mapping(body, "dependencyPackages")
    bundle = {
        "name": name,
        "createdAt": now_iso(),
        "installerVersion": body.get("installerVersion"),
        "addons": {k: v for k, v in body["addons"].items()},
        "dependencyPackages": dict(body.get("dependencyPackages") or {}),
        "addonDevelopment": dict(body.get("addonDevelopment") or {}),
        "isProduction": bool(body.get("isProduction")),
        "isStaging": bool(body.get("isStaging")),
        "isDev": bool(body.get("isDev")),
        "isArchived": False,
        "activeUser": body.get("activeUser"),
    }
    with store.transaction():
        _apply_exclusive_flags(store, bundle)
        store.put("bundle", name, bundle)
    return bundle


def update_bundle(store: Store, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    bundle = store.get("bundle", name)
    if bundle is None:
        raise BundleError(f"Bundle '{name}' not found", 404)
    _check_mapping(changes, "addons")
    _check_mapping(changes, "dependencyPackages")
    if not bundle.get("isDev") and not changes.get("isDev"):
        for key in ("addons", "installerVersion"):
            if changes.get(key) is not None and changes[key] != bundle.get(key):
                raise BundleError(f"'{key}' can be changed only on dev bundles")
    for key, value in changes.items():
        if key in _FLAGS:
            bundle[key] = bool(value)
        elif key == "dependencyPackages":
            packages = dict(bundle.get("dependencyPackages") or {})
            for platform_name, filename in (value or {}).items():
                if filename is None:
                    packages.pop(platform_name, None)
                else:
                    packages[platform_name] = filename
            bundle["dependencyPackages"] = packages
        elif key in {"addons", "installerVersion", "activeUser", "addonDevelopment",
                     "isArchived"}:
            bundle[key] = value
    with store.transaction():
        _apply_exclusive_flags(store, bundle)
        store.put("bundle", name, bundle)
    return bundle


def bundles_response(store: Store) -> dict[str, Any]:
    bundles = store.list("bundle")
    production = next((b["name"] for b in bundles if b.get("isProduction")), None)
    staging = next((b["name"] for b in bundles if b.get("isStaging")), None)
    return {
        "bundles": bundles,
        "productionBundle": production,
        "stagingBundle": staging,
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


def resolve_bundle(store: Store, bundle_name: str | None, variant: str) -> dict[str, Any] | None:
    """The bundle of a settings request: named, else production/staging by variant."""
    if bundle_name:
        bundle = store.get("bundle", bundle_name)
        if bundle is None:
            raise BundleError(f"Bundle '{bundle_name}' not found", 404)
        return bundle
    bundles = store.list("bundle")
    if variant not in {"production", "staging"}:
        return store.get("bundle", variant)  # a dev bundle's variant is its name
    flag = "isStaging" if variant == "staging" else "isProduction"
    return next((b for b in bundles if b.get(flag)), None)
