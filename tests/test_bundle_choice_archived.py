"""Archived bundles are never chosen (production, staging, dev, by name) nor offered.

The real server lists archived bundles with ``GET /api/bundles?archived=1`` (and a server may
still name one as production or staging while it is archived): the payloads below have that
shape, and one test runs the real CLI against the local server with an archived bundle.
"""

from __future__ import annotations

from typing import Any

import pytest

from ayon_launcher.bootstrapper.distribution.bundles import BundleNotFoundError, choose_bundle
from conftest import isolated_env, run_ayon


def bundle(name: str, *, archived: bool = False, **flags: Any) -> dict[str, Any]:
    return {"name": name, "addons": {"demo_tools": "1.0.0"}, "dependencyPackages": {},
            "isProduction": False, "isStaging": False, "isDev": False, "activeUser": None,
            "isArchived": archived, **flags}


def payload(*bundles: dict[str, Any]) -> dict[str, Any]:
    """A ``GET /api/bundles?archived=1`` answer: names of production/staging as flagged."""
    production = next((b["name"] for b in bundles if b["isProduction"]), None)
    staging = next((b["name"] for b in bundles if b["isStaging"]), None)
    return {"bundles": list(bundles), "productionBundle": production,
            "stagingBundle": staging, "devBundles": [b["name"] for b in bundles if b["isDev"]]}


def test_an_archived_production_bundle_is_not_chosen():
    data = payload(bundle("old_prod", archived=True, isProduction=True),
                   bundle("live_prod", isProduction=True))
    assert choose_bundle(data).name == "live_prod"  # not the one the payload names first
    alone = payload(bundle("old_prod", archived=True, isProduction=True), bundle("other"))
    with pytest.raises(BundleNotFoundError) as info:
        choose_bundle(alone)
    assert "no production bundle" in str(info.value)
    assert "old_prod" not in str(info.value) and "other" in str(info.value)


def test_an_archived_staging_bundle_is_not_chosen():
    data = payload(bundle("old_stage", archived=True, isStaging=True),
                   bundle("live_stage", isStaging=True), bundle("prod", isProduction=True))
    assert choose_bundle(data, use_staging=True).name == "live_stage"
    alone = payload(bundle("old_stage", archived=True, isStaging=True),
                    bundle("prod", isProduction=True))
    with pytest.raises(BundleNotFoundError) as info:
        choose_bundle(alone, use_staging=True)
    assert "no staging bundle" in str(info.value) and "old_stage" not in str(info.value)


def test_an_archived_dev_bundle_is_not_chosen():
    data = payload(bundle("a_old_dev", archived=True, isDev=True, activeUser="ann"),
                   bundle("b_dev", isDev=True, activeUser="ann"))
    # The archived one sorts first: only the filter keeps it out.
    assert choose_bundle(data, use_dev=True, username="ann").name == "b_dev"
    alone = payload(bundle("a_old_dev", archived=True, isDev=True, activeUser="ann"),
                    bundle("prod", isProduction=True))
    with pytest.raises(BundleNotFoundError) as info:
        choose_bundle(alone, use_dev=True, username="ann")
    message = str(info.value)
    assert "no dev bundle" in message and "a_old_dev" not in message


def test_an_archived_bundle_is_not_chosen_by_name_nor_listed():
    data = payload(bundle("old", archived=True), bundle("prod", isProduction=True),
                   bundle("next"))
    assert choose_bundle(data, bundle_name="next").name == "next"
    with pytest.raises(BundleNotFoundError) as info:
        choose_bundle(data, bundle_name="old")
    message = str(info.value)
    assert "'old' is archived" in message
    assert message.endswith("(bundles: next, prod)")  # the alternatives: not the archived one
    with pytest.raises(BundleNotFoundError) as info:
        choose_bundle(data, bundle_name="missing")
    assert str(info.value).endswith("(bundles: next, prod)")


def test_the_cli_refuses_an_archived_bundle_of_the_local_server(tmp_path, fresh_server):
    production = next(b for b in fresh_server.bundles() if b["name"] == "demo_production")
    fresh_server.create_bundle("tests_archived", production["addons"],
                               production.get("dependencyPackages") or {})
    fresh_server.update_bundle("tests_archived", isArchived=True)
    env = isolated_env(tmp_path, fresh_server.url)
    env["AYON_API_KEY"] = fresh_server.service_api_key
    done = run_ayon(["--headless", "--bundle", "tests_archived", "addon", "demo_tools",
                     "hello"], env)
    assert done.returncode == 5, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    # The server lists archived bundles only when asked (?archived=1), as the real one does:
    # to the launcher the bundle does not exist, and it is not offered as an alternative.
    assert line.startswith("ayon: error: bundle 'tests_archived' ")
    assert "tests_archived" not in line.split("(bundles:")[1]
    assert "tests_archived," not in line and "tests_archived)" not in line
    assert not (tmp_path / "local" / "addons").exists() or not any(
        (tmp_path / "local" / "addons").iterdir())
