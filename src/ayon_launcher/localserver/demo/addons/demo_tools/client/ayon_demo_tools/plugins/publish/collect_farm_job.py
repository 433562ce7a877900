"""Demo collector: one pyblish instance per instance of the farm job's metadata JSON."""

from typing import Any

import pyblish.api


def _find_folder(api: Any, project_name: str, folder: str) -> dict[str, Any] | None:
    """A folder by path (``/assets/robot``) or, when unique, by name (``robot``)."""
    if "/" in folder:
        return api.get_folder_by_path(project_name, "/" + folder.strip("/"))
    found = list(api.get_folders(project_name, folder_names=[folder]))
    return found[0] if len(found) == 1 else None


class CollectFarmJob(pyblish.api.ContextPlugin):
    """Read the job, look its project, folders and tasks up on the server."""

    label = "Collect farm job"
    order = pyblish.api.CollectorOrder
    targets = ["farm"]

    def process(self, context: pyblish.api.Context) -> None:
        from ayon_launcher.publish.api import Anatomy

        api = context.data["ayonApi"]
        job = context.data["publishJob"]
        project = api.get_project(job.project)
        if project is None:
            raise ValueError(f"project '{job.project}' does not exist on the server")
        context.data["projectEntity"] = project
        roots = api.get_project_roots_by_platform(job.project)
        context.data["anatomy"] = Anatomy.from_project(project, roots or None)

        folders, tasks = {}, {}
        for data in job.instances:
            path = data["folderPath"]
            if path not in folders:
                folders[path] = _find_folder(api, job.project, path)
            folder = folders[path]
            key = (path, data["task"])
            if key not in tasks:
                tasks[key] = (api.get_task_by_name(job.project, folder["id"], data["task"])
                              if folder else None)
            instance = context.create_instance(data["productName"])
            instance.data.update(data)
            instance.data.update(
                family=data["productType"],
                families=[data["productType"], *data.get("families", [])],
                folderEntity=folder,
                taskEntity=tasks[key],
            )
            self.log.info("collected %s (%s) with %d representation(s)",
                          data["productName"], data["productType"],
                          len(data["representations"]))
