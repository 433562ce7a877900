"""The environment an application gets when launched in a project/folder/task context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ayon_launcher.pipeline.environment.applications import (
    APPLICATIONS_ADDON,
    Application,
    ApplicationsSettings,
)
from ayon_launcher.pipeline.environment.definitions import compute_environment, load_definition
from ayon_launcher.pipeline.environment.entities import (
    ContextSource,
    FolderInfo,
    TaskInfo,
    find_folder,
    find_project,
    find_task,
    inherited_attribute,
)

CONTEXT_OPTIONS = ("project", "asset", "task", "app")


@dataclass
class LaunchContext:
    """A validated context: every name exists on the server and in the bundle."""

    project_name: str
    folder: FolderInfo
    task: TaskInfo
    app: Application
    # Tool names ("mtoa/5.3") set on the task or its folders (``tools`` attribute).
    tools: list[str] = field(default_factory=list)


def global_environment_layer(settings: Mapping[str, Any]) -> tuple[str, Any]:
    """The studio-wide definition: ``core`` add-on ``environments`` (ayon-core), when present."""
    core = settings.get("core") or {}
    raw = core.get("environments") if isinstance(core, Mapping) else None
    return ("core add-on environments", load_definition(raw, "core add-on environments"))


def resolve_context(source: ContextSource, settings: Mapping[str, Any], project: str,
                    asset: str, task: str, app: str, platform: str | None = None
                    ) -> LaunchContext:
    """Check every part of the context; unknown names raise a one-line LauncherError."""
    # The application is checked first: it needs no server call.
    apps = ApplicationsSettings(settings.get(APPLICATIONS_ADDON), platform)
    application = apps.find_application(app)
    project_name = find_project(source, project)
    folder = find_folder(source, project_name, asset)
    task_info = find_task(source, project_name, folder, task)
    tools = inherited_attribute(source, project_name, folder, task_info, "tools") or []
    return LaunchContext(project_name, folder, task_info, application,
                         [str(t) for t in tools] if isinstance(tools, list) else [])


def context_variables(context: LaunchContext) -> dict[str, str]:
    """The AYON_* variables naming the context."""
    return {
        "AYON_PROJECT_NAME": context.project_name,
        "AYON_FOLDER_PATH": context.folder.path,
        "AYON_TASK_NAME": context.task.name,
        "AYON_HOST_NAME": context.app.host_name,
        "AYON_APP_NAME": context.app.full_name,
    }


def context_environment(context: LaunchContext, settings: Mapping[str, Any],
                        base: Mapping[str, str], platform: str | None = None
                        ) -> dict[str, str]:
    """``base`` + the global, application and tools definitions + the context variables.

    Definitions may reference the context variables (``{AYON_PROJECT_NAME}``); the context
    variables win over definitions that set the same keys.
    """
    variables = context_variables(context)
    apps = ApplicationsSettings(settings.get(APPLICATIONS_ADDON), platform)
    tools = apps.tools_for(context.app, context.tools)
    layers = [global_environment_layer(settings), *context.app.environment_layers()]
    for tool in tools:
        layers.extend(tool.environment_layers())
    lookup_base = {**base, **variables}
    defined = compute_environment(layers, lookup_base, platform)
    return {**base, **defined, **variables}
