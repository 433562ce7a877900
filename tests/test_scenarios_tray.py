"""The tray offscreen against both servers: start as the service user, notice a bundle change."""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ayon_launcher.gui.worker import wait_for  # noqa: E402
from test_tray import (  # noqa: E402,F401  (fixtures used by name)
    _cleanup_qt,
    launcher_dirs,
    qapp,
    save_grab,
    started_tray,
)


def test_tray_notices_a_new_production_bundle(qapp, any_server, launcher_dirs, monkeypatch,  # noqa: F811
                                              artifacts_dir):
    tray, restarts = started_tray(any_server, monkeypatch)
    assert tray.result.bundle_name == "demo_production"
    assert tray.state == "connected"
    checks: list[str] = []
    tray.bundle_checked.connect(checks.append)
    tray.check_bundle()
    assert wait_for(lambda: checks == ["demo_production"])
    assert tray.pending_bundle is None

    production = any_server.bundle("demo_production")
    name = f"scenario_prod_{uuid.uuid4().hex[:6]}"
    any_server.create_bundle(name, production["addons"],
                             production.get("dependencyPackages") or {}, is_production=True)
    try:
        offered: list[str] = []
        tray.restart_offered.connect(offered.append)
        tray.check_bundle()
        assert wait_for(lambda: offered == [name])
        assert tray.state == "update"
        assert f"Restart to apply bundle {name}" in tray.menu_texts()
        box = tray.restart_box
        assert box is not None and name in box.text()
        save_grab(box, artifacts_dir / f"scenario-tray-bundle-change-{any_server.kind}.png")
        next(b for b in box.buttons() if b.text() == "Restart now").click()
        assert wait_for(lambda: restarts.count == 1)
    finally:
        any_server.update_bundle("demo_production", isProduction=True)
        any_server.delete_bundle(name)
