"""Demo collector: one pyblish instance per instance of the farm job's metadata JSON."""

from typing import Any

import pyblish.api


def _look_up(source: Any, project: str, folder_path: str, task_name: str
             ) -> tuple[Any, Any, str | None]:
    """The folder and task infos, else what the validator reports instead of them."""
    from ayon_launcher.publish.api import UsageError, find_folder, find_task, match_folder

    if not match_folder(source.folders(project), folder_path):
        return None, None, f"folder '{folder_path}' not found in project '{project}'"
    try:
        folder = find_folder(source, project, folder_path)
        return folder, find_task(source, project, folder, task_name), None
    except UsageError as exc:  # an ambiguous folder name, an unknown task: it says which
        return None, None, str(exc)


class CollectFarmJob(pyblish.api.ContextPlugin):
    """Read the job, look its project, folders and tasks up on the server."""

    label = "Collect farm job"
    order = pyblish.api.CollectorOrder
    targets = ["farm"]

    def process(self, context: pyblish.api.Context) -> None:
        from ayon_launcher.publish.api import Anatomy, ServerContextSource

        api = context.data["ayonApi"]
        job = context.data["publishJob"]
        project = api.get_project(job.project)
        if project is None:
            raise ValueError(f"project '{job.project}' does not exist on the server")
        context.data["projectEntity"] = project
        roots = api.get_project_roots_by_platform(job.project)
        context.data["anatomy"] = Anatomy.from_project(project, roots or None)

        source = ServerContextSource(api)
        found: dict[tuple[str, str], tuple[Any, Any, str | None]] = {}
        for data in job.instances:
            key = (data["folderPath"], data["task"])
            if key not in found:
                found[key] = _look_up(source, job.project, *key)
        # The entities themselves (as plug-ins expect them), in one query per entity type.
        folder_ids = sorted({folder.id for folder, _task, _problem in found.values() if folder})
        task_ids = sorted({task.id for _folder, task, _problem in found.values() if task})
        folders = {f["id"]: f for f in api.get_folders(job.project, folder_ids=folder_ids)
                   } if folder_ids else {}
        tasks = {t["id"]: t for t in api.get_tasks(job.project, task_ids=task_ids)
                 } if task_ids else {}

        for data in job.instances:
            folder, task, problem = found[(data["folderPath"], data["task"])]
            instance = context.create_instance(data["productName"])
            instance.data.update(data)
            instance.data.update(
                family=data["productType"],
                families=[data["productType"], *data.get("families", [])],
                folderEntity=folders.get(folder.id) if folder else None,
                taskEntity=tasks.get(task.id) if task else None,
                contextProblem=problem,
            )
            self.log.info("collected %s (%s) with %d representation(s)",
                          data["productName"], data["productType"],
                          len(data["representations"]))
