"""``get_local_site_id``, as ayon-core imports it from the launcher."""

from __future__ import annotations

__all__ = ["get_local_site_id"]


def get_local_site_id() -> str:
    """The machine's site id: AYON_SITE_ID, else the ``site_id`` file in the launcher's local
    folder (created on first use, shared with the official launcher)."""
    from ayon_launcher.bootstrapper.site_id import local_site_id

    return local_site_id()
