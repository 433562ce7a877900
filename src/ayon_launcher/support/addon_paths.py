"""The import paths add-ons were written against (``ayon_launcher.addons`` ...) keep working.

Add-ons for bundles without ayon-core import the add-on interface, the publish helpers and the
applications settings from the launcher. Those modules now live under ``pipeline/``; this finder
answers the old names with the very same module objects (so ``AYONAddon`` stays one class).
"""

import sys

# No typing/importlib imports at module level: ayon_launcher/__init__.py installs this finder
# on every start, the farm's `ayon script.py` included.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

OLD_TO_NEW = {
    "ayon_launcher.addons": "ayon_launcher.pipeline.addons",
    "ayon_launcher.publish": "ayon_launcher.pipeline.publish",
    "ayon_launcher.environment": "ayon_launcher.pipeline.environment",
}


class _Alias:
    """Loader that hands out an already imported module under a second name."""

    def __init__(self, module: "ModuleType") -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: "Any") -> "ModuleType":
        return self.module

    def exec_module(self, module: "ModuleType") -> None:
        module.__spec__ = self.spec  # the import system set the alias's spec: put the real one back


class AddonPathFinder:
    """First on sys.meta_path: an old name imports the module at its new home."""

    @staticmethod
    def find_spec(fullname: str, path: "Any" = None, target: "Any" = None) -> "Any":
        if not fullname.startswith("ayon_launcher."):
            return None  # asked of every import: the common answer comes first
        old = next((o for o in OLD_TO_NEW if fullname == o or fullname.startswith(o + ".")), None)
        if old is None:
            return None
        import importlib
        from importlib.machinery import ModuleSpec

        module = importlib.import_module(OLD_TO_NEW[old] + fullname[len(old):])
        return ModuleSpec(fullname, _Alias(module), is_package=hasattr(module, "__path__"))


def install() -> None:
    """Put the finder first (once), so that no path finder loads a second copy of a module."""
    if not any(isinstance(f, AddonPathFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, AddonPathFinder())
