"""Bundle choice, as the official launcher makes it.

Production by default, staging, the user's dev bundle, a named one, and the project bundle
over it.
"""

from __future__ import annotations

from ayon_launcher.bootstrapper.distribution.models import Bundle
from ayon_launcher.support.errors import DistributionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class BundleNotFoundError(DistributionError):
    """No bundle matches what was asked for."""


def choose_bundle(
    payload: dict[str, Any],
    *,
    bundle_name: str | None = None,
    use_staging: bool = False,
    use_dev: bool = False,
    username: str | None = None,
) -> Bundle:
    """Pick the bundle from a ``GET /api/bundles`` payload; raise naming the existing bundles."""
    bundles = [Bundle.from_dict(b) for b in payload.get("bundles") or [] if b.get("name")]
    # Archived bundles (listed by the server with ?archived=1) are never chosen, under any
    # name or flag, nor offered as alternatives; project bundles are never a studio's
    # production, staging or dev bundle (but can be named).
    unarchived = [b for b in bundles if not b.raw.get("isArchived")]
    active = [b for b in unarchived if not b.is_project]
    by_name = {b.name: b for b in unarchived}
    names = ", ".join(sorted(b.name for b in active)) or "none"

    if bundle_name:
        found = by_name.get(bundle_name)
        if found is None and any(b.name == bundle_name for b in bundles):
            raise BundleNotFoundError(
                f"bundle {bundle_name!r} is archived on the server (bundles: {names})"
            )
        if found is None:
            raise BundleNotFoundError(
                f"bundle {bundle_name!r} does not exist on the server (bundles: {names})"
            )
        return found

    if use_dev:
        mine = [b for b in active if b.is_dev and username and b.active_user == username]
        if not mine:
            dev = ", ".join(sorted(b.name for b in active if b.is_dev)) or "none"
            raise BundleNotFoundError(
                f"no dev bundle is assigned to user {username!r} (dev bundles: {dev})"
            )
        return sorted(mine, key=lambda b: b.name)[0]

    if use_staging:
        name = payload.get("stagingBundle")
        found = by_name.get(name) if name else None
        if found is None:
            found = next((b for b in active if b.is_staging), None)
        if found is None:
            raise BundleNotFoundError(f"the server has no staging bundle (bundles: {names})")
        return found

    name = payload.get("productionBundle")
    found = by_name.get(name) if name else None
    if found is None:
        found = next((b for b in active if b.is_production), None)
    if found is None:
        raise BundleNotFoundError(f"the server has no production bundle (bundles: {names})")
    return found


def studio_bundle_name(payload: dict[str, Any], studio_name: str | None,
                       project_bundle_name: str | None) -> str | None:
    """The studio bundle name to look for.

    ``studio_name`` (--bundle, AYON_STUDIO_BUNDLE_NAME) when given. Launchers before the
    split into studio and project bundles (and farm jobs they submitted) set only
    AYON_BUNDLE_NAME, to the studio bundle: when that names a bundle which is not a project
    bundle, it is the studio bundle, as ayon-core reads it too.
    """
    if studio_name or not project_bundle_name:
        return studio_name or None
    named = next((b for b in payload.get("bundles") or []
                  if b.get("name") == project_bundle_name), None)
    if named is not None and not named.get("isProject"):
        return project_bundle_name
    return None


def project_bundle_wanted(studio: Bundle, *, project_bundle_name: str | None,
                          project_bundles: dict[str, Any] | None,
                          use_staging: bool = False) -> str | None:
    """The name of the project bundle to use over ``studio``, None for the studio bundle.

    A dev studio bundle is used alone. Else the project bundle asked for (--project-bundle,
    AYON_BUNDLE_NAME), or the one the project (--project, AYON_PROJECT_NAME) names for this
    variant in its ``data.bundle`` (``production`` / ``staging``).
    """
    if studio.is_dev:
        return None
    name = project_bundle_name
    if not name and project_bundles:
        name = project_bundles.get("staging" if use_staging else "production")
    if not name or name == studio.name:
        return None
    return str(name)


def choose_project_bundle(payload: dict[str, Any], studio: Bundle,
                          name: str | None) -> Bundle:
    """The project bundle ``name`` from a ``GET /api/bundles`` payload, or ``studio``.

    A named bundle that does not exist is an error; one that is not a project bundle (an
    AYON_BUNDLE_NAME holding a studio bundle's name) means the studio bundle.
    """
    if not name:
        return studio
    raw = next((b for b in payload.get("bundles") or [] if b.get("name") == name), None)
    if raw is None:
        raise BundleNotFoundError(f"project bundle {name!r} does not exist on the server")
    found = Bundle.from_dict(raw)
    return found if found.is_project else studio


def with_addon_versions(project: Bundle, studio: Bundle, addons: list[dict[str, Any]]) -> Bundle:
    """``project`` with the add-on versions the server resolved for the pair (the
    ``settings?summary=true&bundle_name=...&project_bundle_name=...`` answer) and, when the
    project bundle names none, the studio bundle's dependency package."""
    versions = {a["name"]: a["version"] for a in addons if a.get("name") and a.get("version")}
    return Bundle(project.name, addons=versions,
                  dependency_packages=project.dependency_packages or studio.dependency_packages,
                  is_production=project.is_production, is_staging=project.is_staging,
                  is_dev=project.is_dev, is_project=project.is_project,
                  active_user=project.active_user,
                  addon_development=project.addon_development or studio.addon_development,
                  raw=project.raw)
