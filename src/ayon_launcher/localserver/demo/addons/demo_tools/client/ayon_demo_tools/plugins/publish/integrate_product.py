"""Demo integrator: stages publish files and product/version/representation entities."""

import uuid
from typing import Any

import pyblish.api


def _template_data(context: pyblish.api.Context, instance: pyblish.api.Instance,
                   version: int) -> dict[str, Any]:
    project = context.data["projectEntity"]
    folder = instance.data["folderEntity"]
    task = instance.data["taskEntity"]
    short_names = {t["name"]: t.get("shortName") for t in project.get("taskTypes") or []}
    parents = folder["path"].strip("/").split("/")[:-1]
    product = {"name": instance.data["productName"], "type": instance.data["productType"]}
    return {
        "project": {"name": project["name"], "code": project.get("code") or project["name"]},
        "hierarchy": "/".join(parents),
        "folder": {"name": folder["name"], "type": folder.get("folderType")},
        "asset": folder["name"],
        "task": {"name": task["name"], "type": task.get("taskType"),
                 "short": short_names.get(task.get("taskType"))},
        "product": product,
        "subset": product["name"],
        "family": product["type"],
        "version": version,
        "user": context.data.get("user"),
    }


class IntegrateDemoProduct(pyblish.api.InstancePlugin):
    """Stage a new version (the next number) of the product with its representations."""

    label = "Integrate product"
    order = pyblish.api.IntegratorOrder
    families = ["*"]

    def process(self, instance: pyblish.api.Instance) -> None:
        from ayon_api.operations import (
            new_product_entity,
            new_representation_entity,
            new_version_entity,
        )
        from ayon_launcher.publish.api import sequence_frame

        context = instance.context
        api = context.data["ayonApi"]
        transaction = context.data["ayonTransaction"]
        anatomy = context.data["anatomy"]
        project_name = context.data["projectName"]
        folder = instance.data["folderEntity"]
        task = instance.data["taskEntity"]
        product_name = instance.data["productName"]

        product = api.get_product_by_name(project_name, product_name, folder["id"])
        last = None
        if product is None:
            product = new_product_entity(product_name, instance.data["productType"],
                                         folder["id"])
            transaction.create_entity("product", product)
        else:
            last = api.get_last_version_by_product_id(project_name, product["id"])
        number = last["version"] + 1 if last else 1

        attribs = {"comment": instance.data.get("comment") or "",
                   "families": instance.data.get("families") or [],
                   "source": context.data.get("publishMetadataPath")}
        for key in ("frameStart", "frameEnd", "handleStart", "handleEnd", "fps"):
            if key in instance.data:
                attribs[key] = instance.data[key]
        version = new_version_entity(number, product["id"], task_id=task["id"],
                                     author=context.data.get("user"), attribs=attribs)
        transaction.create_entity("version", version)

        base = _template_data(context, instance, number)
        template = anatomy.template_path("publish")
        published = []
        for representation in instance.data["representations"]:
            data = {**base, "representation": representation["name"],
                    "ext": representation["ext"]}
            if representation.get("outputName"):
                data["output"] = representation["outputName"]
            sources = representation["files"]
            files, first = [], None
            for source in sources:
                file_data = dict(data)
                if len(sources) > 1:
                    file_data["frame"] = sequence_frame(source)[1]
                rootless = anatomy.format_path("publish", file_data, rootless=True)
                destination = anatomy.fill_root(rootless)
                staged = transaction.add_file(source, destination)
                files.append({"id": uuid.uuid4().hex, "name": destination.name,
                              "path": rootless, "size": staged.size, "hash": staged.sha256,
                              "hash_type": "sha256"})
                published.append(str(destination))
                first = first or rootless
            context_data = {k: v for k, v in data.items() if k != "user"}
            transaction.create_entity("representation", new_representation_entity(
                representation["name"], version["id"], files,
                attribs={"path": first, "template": template,
                         "extension": representation["ext"]},
                data={"context": context_data},
            ))
        instance.data["published"] = {
            "folderPath": folder["path"],
            "productName": product_name,
            "version": number,
            "versionId": version["id"],
            "files": published,
        }
        self.log.info("staged %s v%03d with %d file(s)", product_name, number, len(published))
