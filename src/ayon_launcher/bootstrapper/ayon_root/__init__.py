"""AYON_ROOT of this launcher: ``version.py``, ``start.py``, ``app_launcher.py`` for ayon-core."""
