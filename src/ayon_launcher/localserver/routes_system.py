"""Server info, health, login/logout, users and the attribute schema."""

from __future__ import annotations

import platform
import time
from typing import Any

from fastapi import APIRouter, Request

from .app import (
    SERVER_VERSION,
    ApiError,
    bearer_token,
    current_user,
    optional_user,
    public_user,
    read_json,
)
from .attributes import attributes_schema

router = APIRouter()


@router.get("/")
async def root() -> dict[str, Any]:
    return {"name": "AYON local server", "version": SERVER_VERSION}


@router.get("/api")
@router.get("/api/")
async def health() -> dict[str, Any]:
    return {"status": "ok", "version": SERVER_VERSION}


@router.get("/api/info")
async def info(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": SERVER_VERSION,
        "productName": "AYON local server",
        "releaseDate": None,
        "uptime": time.time() - request.app.state.started,
        "motd": None,
        "onboarding": False,
        "noAdminUser": False,
        "hostname": platform.node(),
        "ssoOptions": [],
        "passwordRecoveryAvailable": False,
    }
    user = optional_user(request)
    if user is not None:
        data["user"] = public_user(user)
        data["attributes"] = attributes_schema()["attributes"]
        data["sites"] = []
    return data


@router.post("/api/auth/login")
async def login(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name:
        raise ApiError(422, "Fields 'name' and 'password' are required")
    store = request.app.state.store
    user = store.check_password(name, password)
    if user is None:
        raise ApiError(401, "Invalid login or password")
    token = store.issue_token(user["name"])
    return {"detail": f"Logged in as {user['name']}", "token": token, "user": public_user(user)}


@router.post("/api/auth/logout")
async def logout(request: Request) -> dict[str, Any]:
    current_user(request)
    token = bearer_token(request)
    if token:
        request.app.state.store.revoke_token(token)
    return {"detail": "Logged out"}


@router.get("/api/users/me")
async def users_me(request: Request) -> dict[str, Any]:
    return public_user(current_user(request))


@router.get("/api/users/{name}")
async def get_user(name: str, request: Request) -> dict[str, Any]:
    current_user(request)
    user = request.app.state.store.get("user", name)
    if user is None:
        raise ApiError(404, f"User '{name}' not found")
    return public_user(user)


@router.get("/api/attributes")
async def attributes(request: Request) -> dict[str, Any]:
    current_user(request)
    return attributes_schema()
