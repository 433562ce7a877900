"""Server info, health, login/logout, users and the attribute schema."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ayon_launcher.localserver.app import (
    SERVER_VERSION,
    ApiError,
    bearer_token,
    current_user,
    optional_user,
    public_user,
    read_json,
    validation_error,
)
from ayon_launcher.localserver.attributes import attributes_schema

router = APIRouter()


@router.get("/")
async def front_page(request: Request) -> HTMLResponse:
    # The real server's web front-end is mounted at "/" (ayon_api wants it to answer 200); there
    # is no JSON health route at /api. With ?auth_redirect= it is the browser login page.
    from ayon_launcher.localserver.login_page import login_page

    page = login_page(request)
    if page is not None:
        return page
    return HTMLResponse("<html><body>AYON local server</body></html>",
                        headers={"Cache-Control": "no-cache"})


@router.get("/api/info")
async def info(request: Request) -> dict[str, Any]:
    # Anonymous: version and uptime only (the real one adds a message of the day and login
    # options when configured); logged in: the user, attributes and sites too.
    data: dict[str, Any] = {
        "version": SERVER_VERSION,
        "uptime": float(int(time.time() - request.app.state.started)),
    }
    user = optional_user(request)
    if user is not None:
        data.update({
            "user": public_user(user),
            "attributes": attributes_schema()["attributes"],
            "sites": [],
            "ssoOptions": [],
            "onboarding": False,
            "disableChangelog": False,
            "frontendFlags": [],
            "extras": "",
        })
    return data


@router.post("/api/auth/login")
async def login(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    name, password = body.get("name"), body.get("password")
    missing = [key for key, value in (("name", name), ("password", password))
               if not isinstance(value, str)]
    if missing:
        raise validation_error(request, "\n".join(f"{key}: field required" for key in missing))
    store = request.app.state.store
    user = store.check_password(name, password)
    if user is None:
        raise ApiError(403, "Invalid login/password combination")
    token = store.issue_token(user["name"])
    return {"detail": f"Logged in as {user['name']}", "error": None, "redirectUrl": None,
            "token": token, "user": public_user(user)}


@router.post("/api/auth/logout")
async def logout(request: Request) -> dict[str, Any]:
    # As the real server: "Logged out" also for a missing or already invalid token.
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
        raise ApiError(404, f"User {name} not found")
    return public_user(user)


@router.get("/api/attributes")
async def attributes(request: Request) -> dict[str, Any]:
    current_user(request)
    return attributes_schema()
