"""The plain classes of a start (support/records.py) behave as the dataclasses they replaced:
same constructors and defaults, equality by value, (un)hashability, a readable repr, frozen
sources; the add-on loader still skips abstract add-on classes without the inspect module."""

from __future__ import annotations

import abc
import pickle
import types

import pytest

from ayon_launcher.bootstrapper.bootstrap import BootstrapResult, Progress
from ayon_launcher.bootstrapper.connection.login import Session
from ayon_launcher.bootstrapper.distribution.bundles import with_addon_versions
from ayon_launcher.bootstrapper.distribution.models import (
    Bundle,
    DistItem,
    FilesystemSource,
    HttpSource,
    ServerSource,
)
from ayon_launcher.pipeline.addons.base import AYONAddon
from ayon_launcher.pipeline.addons.loader import LoadResult, addon_classes
from ayon_launcher.pipeline.environment.applications import Tool


def test_equality_is_by_value_and_class_and_mutable_ones_are_unhashable():
    assert Progress("addon a 1.0", 1, None, "done") == Progress(item="addon a 1.0", done=1,
                                                                total=None, state="done")
    assert Progress("addon a 1.0", 1, None, "done") != Progress("addon a 1.0", 2, None, "done")
    assert Session("http://s", "t") == Session("http://s", "t", None, False)
    assert Session("http://s", "t") != Progress("http://s", "t", None, False)
    with pytest.raises(TypeError, match="unhashable"):
        hash(Session("http://s", "t"))
    assert repr(Progress("addon a 1.0", 1, 4, "done")) == (
        "Progress(item='addon a 1.0', done=1, total=4, state='done')")


def test_defaults_are_fresh_objects_per_instance():
    first, second = BootstrapResult(), BootstrapResult()
    first.addons.append("x")
    first.settings["a"] = {}
    assert second.addons == [] and second.settings == {} and first != second
    assert Tool("mtoa", "5.3").host_names is not Tool("mtoa", "5.3").host_names
    assert LoadResult().errors is not LoadResult().errors
    assert Bundle("b").raw is not Bundle("b").raw


def test_sources_are_frozen_hashable_values():
    source = HttpSource("http://files/a.zip", (("X-Key", "v"),))
    assert {source, HttpSource("http://files/a.zip", (("X-Key", "v"),))} == {source}
    assert hash(ServerSource("a.zip")) == hash(ServerSource("a.zip", None, "server"))
    assert FilesystemSource("/a.zip") != ServerSource("/a.zip")
    with pytest.raises(AttributeError):
        source.url = "http://elsewhere"
    with pytest.raises(AttributeError):
        del source.headers
    assert source.url == "http://files/a.zip"
    assert pickle.loads(pickle.dumps(source)) == source
    assert repr(FilesystemSource("/a.zip")) == "FilesystemSource(path='/a.zip', type='filesystem')"


def test_a_dist_item_pickles_and_compares_with_its_sources(tmp_path):
    item = DistItem("addon", "a", "1.0", None, "sha256", [ServerSource("a.zip")], tmp_path)
    assert pickle.loads(pickle.dumps(item)) == item
    assert item != DistItem("addon", "a", "1.0", None, "sha256", [ServerSource("b.zip")],
                            tmp_path)


def test_a_project_bundle_takes_the_resolved_versions_and_keeps_the_rest():
    studio = Bundle("studio", dependency_packages={"linux": "deps.zip"}, is_production=True)
    project = Bundle("proj", addons={"core": "1.0"}, is_project=True, active_user="ann",
                     raw={"name": "proj", "isProject": True})
    merged = with_addon_versions(project, studio, [{"name": "core", "version": "1.2"}])
    assert merged == Bundle("proj", addons={"core": "1.2"},
                            dependency_packages={"linux": "deps.zip"}, is_project=True,
                            active_user="ann", raw={"name": "proj", "isProject": True})
    assert project.addons == {"core": "1.0"}  # a new bundle: the project's is unchanged


def test_abstract_addon_classes_are_not_loaded():
    class Abstract(AYONAddon, abc.ABC):
        name = "abstract"

        @abc.abstractmethod
        def run(self) -> None: ...

    class Concrete(Abstract):
        name = "concrete"

        def run(self) -> None: ...

    class Nameless(AYONAddon):
        pass

    module = types.SimpleNamespace(Abstract=Abstract, Concrete=Concrete, Nameless=Nameless,
                                   AYONAddon=AYONAddon, value=3, instance=Concrete())
    assert addon_classes(module) == [Concrete]
