"""Bundle choice: production by default, staging, the user's dev bundle, or a named one."""

from __future__ import annotations

from typing import Any

from ..errors import DistributionError
from .models import Bundle


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
    # name or flag, nor offered as alternatives.
    active = [b for b in bundles if not b.raw.get("isArchived")]
    by_name = {b.name: b for b in active}
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
