"""Local server: projects, folders and tasks through GraphQL, and publishing entities."""

from __future__ import annotations

import ayon_api
import pytest
import requests
from ayon_api.exceptions import FailedOperations
from ayon_api.operations import (
    OperationsSession,
    new_product_entity,
    new_representation_entity,
    new_version_entity,
)

PROJECT = "demo_Commercial"


def _con(server) -> ayon_api.ServerAPI:
    con = ayon_api.ServerAPI(server.url)
    con.login(server.admin_user, server.admin_password)
    return con


def test_projects(local_server):
    con = _con(local_server)
    assert [p["name"] for p in con.get_projects()] == [PROJECT]
    assert con.get_project_names() == [PROJECT]
    project = con.get_project(PROJECT)
    roots = project["config"]["roots"]["work"]
    assert roots["linux"] == (local_server.data_dir / "projects").as_posix()
    assert set(roots) == {"windows", "linux", "darwin"}
    assert "directory" in project["config"]["templates"]["publish"]["default"]
    assert {t["name"] for t in project["taskTypes"]} >= {"Modeling", "Animation"}
    assert con.get_project("missing") is None
    response = requests.get(f"{local_server.url}/api/projects/missing", timeout=5,
                            headers={"Authorization": f"Bearer {con.access_token}"})
    assert response.status_code == 404 and response.json()["code"] == 404


def test_folders_and_tasks(local_server):
    con = _con(local_server)
    paths = {f["path"] for f in con.get_folders(PROJECT)}
    assert {"/assets/characters/robot", "/assets/props/chair", "/shots/sq01/sh010"} <= paths
    robot = con.get_folder_by_path(PROJECT, "/assets/characters/robot")
    assert robot["folderType"] == "Asset" and robot["attrib"]["fps"] == 25.0
    parent = con.get_folder_by_id(PROJECT, robot["parentId"])
    assert parent["name"] == "characters"
    top = {f["name"] for f in con.get_folders(PROJECT, parent_ids=[None])}
    assert top == {"assets", "shots"}
    assert [f["name"] for f in con.get_folders(PROJECT, folder_names=["chair"])] == ["chair"]
    tasks = {t["name"]: t for t in con.get_tasks(PROJECT, folder_ids=[robot["id"]])}
    assert set(tasks) == {"modeling", "rigging", "lookdev"}
    assert tasks["rigging"]["taskType"] == "Rigging"
    anim = list(con.get_tasks(PROJECT, task_types=["Animation"]))
    assert len(anim) == 2 and all(t["name"] == "animation" for t in anim)
    assert con.get_task_by_name(PROJECT, robot["id"], "modeling")["folderId"] == robot["id"]
    shots = list(con.get_folders(PROJECT, folder_path_regex="^/shots/sq01/"))
    assert {f["name"] for f in shots} == {"sh010", "sh020"}


def test_graphql_paging(local_server):
    con = _con(local_server)
    query = """query Q($p: String!, $after: String) { project(name: $p) {
        folders(first: 4, after: $after) { edges { node { path } }
        pageInfo { endCursor hasNextPage } } } }"""
    seen, after = [], None
    while True:
        response = con.query_graphql(query, {"p": PROJECT, "after": after}).data
        folders = response["data"]["project"]["folders"]
        seen += [e["node"]["path"] for e in folders["edges"]]
        if not folders["pageInfo"]["hasNextPage"]:
            break
        after = folders["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(list(con.get_folders(PROJECT)))


def test_graphql_errors_are_reported(local_server):
    con = _con(local_server)
    data = con.query_graphql("{ project(name: \"x\") { nope } }").data
    assert data["errors"] and "nope" in data["errors"][0]["message"]


def _publish(con, folder, task, product_name="modelMain", rep_name="abc"):
    last = con.get_last_version_by_product_name(PROJECT, product_name, folder["id"])
    number = last["version"] + 1 if last else 1
    session = OperationsSession(con)
    product = con.get_product_by_name(PROJECT, product_name, folder["id"])
    if product is None:
        product = new_product_entity(product_name, "model", folder["id"])
        session.create_entity(PROJECT, "product", product)
    version = new_version_entity(number, product["id"], task_id=task["id"],
                                 attribs={"comment": "test"})
    session.create_entity(PROJECT, "version", version)
    representation = new_representation_entity(
        rep_name, version["id"],
        files=[{"path": f"{{root[work]}}/x/v{number:03d}.abc", "size": 12, "hash": "h"}],
        attribs={"path": f"/x/v{number:03d}.abc"}, data={"context": {"ext": "abc"}})
    session.create_entity(PROJECT, "representation", representation)
    session.commit()
    return version


def test_publish_entities_and_version_increment(fresh_server):
    con = _con(fresh_server)
    folder = con.get_folder_by_path(PROJECT, "/assets/characters/robot")
    task = con.get_task_by_name(PROJECT, folder["id"], "modeling")
    _publish(con, folder, task)
    second = _publish(con, folder, task)
    product = con.get_product_by_name(PROJECT, "modelMain", folder["id"])
    assert product["productType"] == "model"
    versions = sorted(v["version"] for v in con.get_versions(PROJECT,
                                                               product_ids=[product["id"]]))
    assert versions == [1, 2]
    last = con.get_last_version_by_product_name(PROJECT, "modelMain", folder["id"])
    assert last["id"] == second["id"] and last["name"] == "v002" and last["author"] == "admin"
    assert last["taskId"] == task["id"] and last["attrib"]["comment"] == "test"
    representations = list(con.get_representations(PROJECT, version_ids=[second["id"]]))
    assert len(representations) == 1
    rep = representations[0]
    assert rep["files"][0]["size"] == 12 and rep["attrib"]["path"] == "/x/v002.abc"
    parents = con.get_representation_parents(PROJECT, rep["id"])
    assert parents.folder["path"] == "/assets/characters/robot"


def test_duplicate_version_fails_and_rolls_back(fresh_server):
    con = _con(fresh_server)
    folder = con.get_folder_by_path(PROJECT, "/assets/props/chair")
    task = con.get_task_by_name(PROJECT, folder["id"], "modeling")
    first = _publish(con, folder, task)
    session = OperationsSession(con)
    session.create_entity(PROJECT, "version", new_version_entity(
        first["version"], first["productId"], task_id=task["id"]))
    with pytest.raises(FailedOperations):
        session.commit()
    assert len(list(con.get_versions(PROJECT, product_ids=[first["productId"]]))) == 1


def test_delete_version_cascades(fresh_server):
    con = _con(fresh_server)
    folder = con.get_folder_by_path(PROJECT, "/shots/sq01/sh010")
    task = con.get_task_by_name(PROJECT, folder["id"], "animation")
    version = _publish(con, folder, task)
    session = OperationsSession(con)
    session.delete_entity(PROJECT, "version", version["id"])
    session.commit()
    assert list(con.get_versions(PROJECT, version_ids=[version["id"]])) == []
    assert list(con.get_representations(PROJECT, version_ids=[version["id"]])) == []


def test_operation_on_unknown_project_is_404(local_server):
    con = _con(local_server)
    response = requests.post(f"{local_server.url}/api/projects/missing/operations",
                             json={"operations": []}, timeout=5,
                             headers={"Authorization": f"Bearer {con.access_token}"})
    assert response.status_code == 404


def test_rest_entity_creation(fresh_server):
    con = _con(fresh_server)
    folder_id = con.create_folder(PROJECT, "prop2", folder_type="Asset",
                                  parent_id=con.get_folder_by_path(
                                      PROJECT, "/assets/props")["id"])
    assert con.get_folder_by_id(PROJECT, folder_id)["path"] == "/assets/props/prop2"
    task_id = con.create_task(PROJECT, "modeling", "Modeling", folder_id)
    assert con.get_task_by_id(PROJECT, task_id)["name"] == "modeling"
