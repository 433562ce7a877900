"""Demo validator: the context exists on the server and every file to publish is there."""

import os
import re

import pyblish.api

_NAME = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.\-]*$")


def _sequence_problems(name: str, files: list[str]) -> list[str]:
    from ayon_launcher.publish.api import sequence_frame

    parts = [sequence_frame(path) for path in files]
    if any(part is None for part in parts):
        return [f"representation '{name}' has several files that are not one numbered "
                "sequence (name.1001.ext)"]
    if len({(head, tail) for head, _frame, tail in parts}) != 1:
        return [f"representation '{name}' mixes files of different sequences"]
    frames = [frame for _head, frame, _tail in parts]
    if len(set(frames)) != len(frames):
        return [f"representation '{name}' lists a frame twice"]
    return []


class ValidateFarmJob(pyblish.api.InstancePlugin):
    """Folder and task exist, names are valid, files exist and sequences are sequences."""

    label = "Validate farm job"
    order = pyblish.api.ValidatorOrder
    families = ["*"]

    def process(self, instance: pyblish.api.Instance) -> None:
        from ayon_launcher.publish.api import PublishValidationError

        context = instance.context
        project = context.data["projectName"]
        data = instance.data
        problems = []
        if not _NAME.match(data["productName"]):
            problems.append(f"invalid product name '{data['productName']}'")
        if data.get("contextProblem"):  # the collector's look-up says what is wrong
            problems.append(data["contextProblem"])
        elif data.get("folderEntity") is None or data.get("taskEntity") is None:
            problems.append(f"folder '{data['folderPath']}' with task '{data['task']}' is "
                            f"gone from project '{project}'")
        same = [i for i in context
                if i is not instance and i.data.get("folderPath") == data["folderPath"]
                and i.data.get("productName") == data["productName"]]
        if same:
            problems.append(f"product '{data['productName']}' is published twice in this job")
        names = [r["name"] for r in data["representations"]]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"representation name '{name}' is used twice")
        for representation in data["representations"]:
            name = representation["name"]
            if not _NAME.match(name):
                problems.append(f"invalid representation name '{name}'")
            for path in representation["files"]:
                if not os.path.isfile(path):
                    problems.append(f"file of representation '{name}' not found: {path}")
            if len(representation["files"]) > 1:
                problems += _sequence_problems(name, representation["files"])
        if problems:
            raise PublishValidationError("; ".join(problems))
        self.log.info("%s is valid", data["productName"])
