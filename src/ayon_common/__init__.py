"""Compatibility package: the ``ayon_common`` names ayon-core imports from its launcher.

ayon-core (the ``core`` add-on) imports a few names from the official launcher's own
``ayon_common`` package; this one provides exactly those, on top of this launcher:
``ayon_common.utils.get_local_site_id`` and
``ayon_common.connection.credentials.change_user_ui``. Nothing else is promised.
"""
