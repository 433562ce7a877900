"""The launcher's version, where ayon-core reads it (``AYON_ROOT/version.py``, ``__version__``)."""

__version__ = "0.1.0"
