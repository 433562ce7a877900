"""Server part of the demo applications add-on, for ynput's AYON server."""

import json
import os

from ayon_server.addons import BaseServerAddon
from ayon_server.settings import BaseSettingsModel, SettingsField

_ADDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MultiplatformPaths(BaseSettingsModel):
    windows: list[str] = SettingsField(default_factory=list, title="Windows")
    linux: list[str] = SettingsField(default_factory=list, title="Linux")
    darwin: list[str] = SettingsField(default_factory=list, title="MacOS")


class AppVariant(BaseSettingsModel):
    name: str = SettingsField("", title="Name")
    label: str = SettingsField("", title="Label")
    executables: MultiplatformPaths = SettingsField(default_factory=MultiplatformPaths,
                                                    title="Executables")
    environment: str = SettingsField("{}", title="Environment", widget="textarea")


class AppGroup(BaseSettingsModel):
    enabled: bool = SettingsField(True, title="Enabled")
    label: str = SettingsField("", title="Label")
    host_name: str = SettingsField("", title="Host name")
    environment: str = SettingsField("{}", title="Environment", widget="textarea")
    variants: list[AppVariant] = SettingsField(default_factory=list, title="Variants")


class Applications(BaseSettingsModel):
    maya: AppGroup = SettingsField(default_factory=AppGroup, title="Maya")
    nuke: AppGroup = SettingsField(default_factory=AppGroup, title="Nuke")
    houdini: AppGroup = SettingsField(default_factory=AppGroup, title="Houdini")


class ToolVariant(BaseSettingsModel):
    name: str = SettingsField("", title="Name")
    host_names: list[str] = SettingsField(default_factory=list, title="Hosts")
    app_variants: list[str] = SettingsField(default_factory=list, title="Applications")
    environment: str = SettingsField("{}", title="Environment", widget="textarea")


class ToolGroup(BaseSettingsModel):
    name: str = SettingsField("", title="Name")
    environment: str = SettingsField("{}", title="Environment", widget="textarea")
    variants: list[ToolVariant] = SettingsField(default_factory=list, title="Variants")


class ApplicationsSettings(BaseSettingsModel):
    """Application groups and tool groups, shaped as ayon-applications keeps them."""

    applications: Applications = SettingsField(default_factory=Applications,
                                               title="Applications")
    tool_groups: list[ToolGroup] = SettingsField(default_factory=list, title="Tool groups")


class DemoApplicationsAddon(BaseServerAddon):
    settings_model = ApplicationsSettings

    async def get_default_settings(self):
        # The same defaults the embedded server serves: the add-on's settings.json.
        with open(os.path.join(_ADDON_DIR, "settings.json"), encoding="utf-8") as handle:
            return self.get_settings_model()(**json.load(handle))
