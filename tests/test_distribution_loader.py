"""Add-on loader: sys.path order, AYONAddon discovery, settings, and a failing add-on."""

from __future__ import annotations

import sys
import uuid

import pytest

from ayon_launcher.pipeline.addons.loader import AddonFolder, load_addons


@pytest.fixture
def clean_sys_path():
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        sys.modules.pop(name, None)


def test_loader_orders_paths_loads_addons_and_survives_a_broken_one(tmp_path, clean_sys_path):
    suffix = uuid.uuid4().hex[:8]
    good_pkg, bad_pkg, dep_mod = f"good_{suffix}", f"bad_{suffix}", f"depmod_{suffix}"

    dep = tmp_path / "dependency_packages" / "pkg-linux"
    (dep / "dependencies").mkdir(parents=True)
    (dep / "dependencies" / f"{dep_mod}.py").write_text("VALUE = 42\n")

    good = tmp_path / "addons" / "zgood_1.0.0"
    (good / good_pkg).mkdir(parents=True)
    (good / good_pkg / "__init__.py").write_text(
        "from ayon_launcher.pipeline.addons import AYONAddon\n"
        f"import {dep_mod}\n"
        "class GoodAddon(AYONAddon):\n"
        "    name = 'zgood'\n"
        "    version = '1.0.0'\n"
        "    def initialize(self, settings):\n"
        f"        self.greeting = settings.get('greeting', 'none') + str({dep_mod}.VALUE)\n"
    )
    bad = tmp_path / "addons" / "abad_1.0.0"
    (bad / bad_pkg).mkdir(parents=True)
    (bad / bad_pkg / "__init__.py").write_text("raise RuntimeError('boom in client code')\n")

    result = load_addons(
        [AddonFolder("zgood", "1.0.0", str(good)), AddonFolder("abad", "1.0.0", str(bad))],
        settings={"zgood": {"greeting": "hi"}},
        dependency_package=str(dep),
    )
    # Dependency package first, then add-ons sorted by name.
    assert result.python_paths == [str(dep / "dependencies"), str(bad), str(good)]
    assert sys.path[:3] == result.python_paths
    assert [a.name for a in result.addons] == ["zgood"]
    assert result.addons[0].greeting == "hi42"
    assert result.addons[0].settings == {"greeting": "hi"}
    assert "boom in client code" in result.errors["abad"]
