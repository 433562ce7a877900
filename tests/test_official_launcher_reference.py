"""The reference half of the differential tests: ynput's official launcher on a studio bundle."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from conftest import ARTIFACTS_DIR
from harness import official, studio

pytestmark = pytest.mark.timeout(900)

# Names of variables whose values are secrets: never written to an artifact.
SECRET_NAME = re.compile(r"KEY|TOKEN|PASSWORD|SECRET|CREDENTIAL", re.I)
REDACTED = "<redacted>"


def redact(env: dict[str, str]) -> dict[str, str]:
    """The environment with the values of secret variables replaced."""
    return {k: (REDACTED if SECRET_NAME.search(k) and v else v) for k, v in env.items()}


def _context_args(bundle: studio.StudioBundle) -> list[str]:
    return ["--project", bundle.project_name, "--folder", bundle.folder_path,
            "--task", bundle.task_name, "--app", bundle.app_name]


def _api_key(bundle: studio.StudioBundle) -> str:
    return bundle.server.service_api_key


def _failure(result) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout[-4000:]}\nstderr:\n" \
           f"{result.stderr[-4000:]}"


def test_official_extractenvironments_gives_the_context(studio_bundle, official_launcher,
                                                         tmp_path):
    out = tmp_path / "env" / "official.json"
    env = official.official_env(official_launcher, studio_bundle.url, _api_key(studio_bundle),
                                tmp_path)
    result = official.run_official(
        official_launcher,
        ["--headless", "addon", "applications", "extractenvironments", str(out),
         *_context_args(studio_bundle)], env)
    assert result.returncode == 0, _failure(result)
    extracted = json.loads(out.read_text())

    assert extracted["AYON_PROJECT_NAME"] == studio_bundle.project_name
    assert extracted["AYON_FOLDER_PATH"] == studio_bundle.folder_path
    assert extracted["AYON_TASK_NAME"] == studio_bundle.task_name
    assert extracted["AYON_APP_NAME"] == studio_bundle.app_name
    workdir = Path(extracted["AYON_WORKDIR"])
    assert studio_bundle.project_name in workdir.parts
    assert studio_bundle.task_name in workdir.parts
    assert "AYON_LAST_WORKFILE" in extracted
    for name, value in {**studio.APP_GROUP_ENV, **studio.APP_VARIANT_ENV}.items():
        assert extracted[name] == value
    # The official launcher's bootstrap: the bundle and its add-ons are what it ran with.
    assert extracted["AYON_BUNDLE_NAME"] == studio_bundle.bundle_name
    assert extracted["AYON_SERVER_URL"] == studio_bundle.url
    addons_dir = Path(extracted["AYON_ADDONS_DIR"])
    for name, version in studio_bundle.addons.items():
        assert (addons_dir / f"{name}_{version}").is_dir()

    # The reference for the differential test, without secrets.
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    artifact = ARTIFACTS_DIR / "official-extractenvironments.json"
    artifact.write_text(json.dumps({
        "launcher": f"ynput ayon-launcher {official_launcher.version} (from source)",
        "bundle": studio_bundle.bundle_name,
        "context": {"project": studio_bundle.project_name, "folder": studio_bundle.folder_path,
                    "task": studio_bundle.task_name, "app": studio_bundle.app_name},
        "environment": redact(extracted),
    }, indent=2, sort_keys=True))
    assert _api_key(studio_bundle) not in artifact.read_text()


def test_official_launch_starts_the_app(studio_bundle, official_launcher, tmp_path):
    record = tmp_path / "app-record.txt"
    env = official.official_env(official_launcher, studio_bundle.url, _api_key(studio_bundle),
                                tmp_path, extra={studio.APP_RECORD_ENV: str(record)})
    result = official.run_official(
        official_launcher,
        ["--headless", "addon", "applications", "launch", *_context_args(studio_bundle)], env)
    assert result.returncode == 0, _failure(result)
    # The application is started detached: wait for what it records.
    deadline = time.monotonic() + 60
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert record.exists(), "the app was not started\n" + _failure(result)
    started = studio.read_app_record(record)
    assert started["env"]["AYON_PROJECT_NAME"] == studio_bundle.project_name
    assert started["env"]["AYON_FOLDER_PATH"] == studio_bundle.folder_path
    assert started["env"]["AYON_TASK_NAME"] == studio_bundle.task_name
    assert started["env"]["AYON_APP_NAME"] == studio_bundle.app_name
    assert started["env"]["STUDIO_APP_MARK"] == studio.APP_VARIANT_ENV["STUDIO_APP_MARK"]
    assert started["env"]["AYON_WORKDIR"]
