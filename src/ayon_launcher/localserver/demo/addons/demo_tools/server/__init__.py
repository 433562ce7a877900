"""Server part of the demo_tools add-on, for ynput's AYON server (the embedded one ignores it)."""

import json
import os

from ayon_server.addons import BaseServerAddon
from ayon_server.settings import BaseSettingsModel, SettingsField

_ADDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DemoToolsSettings(BaseSettingsModel):
    """Studio settings (``settings.json``); ``project_greeting`` is set per project."""

    enabled: bool = SettingsField(True, title="Enabled")
    greeting: str = SettingsField("", title="Greeting")
    tray_label: str = SettingsField("", title="Tray menu label")
    project_greeting: str = SettingsField("", title="Project greeting")


class DemoToolsAddon(BaseServerAddon):
    settings_model = DemoToolsSettings

    async def get_default_settings(self):
        # The same defaults the embedded server serves: the add-on's settings.json.
        with open(os.path.join(_ADDON_DIR, "settings.json"), encoding="utf-8") as handle:
            return self.get_settings_model()(**json.load(handle))
