"""FastAPI application of the local server: error handling, authentication and route wiring."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .store import Store

SERVER_VERSION = "1.10.0"
log = logging.getLogger("ayon_launcher.localserver")


class ApiError(Exception):
    """An expected error answered as ``{"detail": ..., "code": ...}`` with its status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def error_response(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": status}, status_code=status)


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 error."""
    body = await request.body()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Malformed JSON body") from None
    if not isinstance(data, dict):
        raise ApiError(400, "JSON body must be an object")
    return data


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


def current_user(request: Request) -> dict[str, Any]:
    """The authenticated user of a request (Bearer session token or service ``x-api-key``)."""
    store: Store = request.app.state.store
    token = bearer_token(request)
    if token:
        user = store.user_for_token(token)
        if user is None:
            raise ApiError(401, "Invalid or expired token")
    else:
        key = request.headers.get("x-api-key")
        if not key:
            raise ApiError(401, "Not logged in")
        user = store.user_for_api_key(key)
        if user is None:
            raise ApiError(401, "Invalid API key")
        as_user = request.headers.get("x-as-user")
        if as_user and user.get("isService"):
            other = store.get("user", as_user)
            if other is None:
                raise ApiError(401, f"Unknown user '{as_user}'")
            user = other
    if not user.get("active", True):
        raise ApiError(401, "User is not active")
    return user


def optional_user(request: Request) -> dict[str, Any] | None:
    try:
        return current_user(request)
    except ApiError:
        return None


def require_admin(request: Request) -> dict[str, Any]:
    user = current_user(request)
    if not (user.get("isAdmin") or user.get("isService")):
        raise ApiError(403, "Administrator rights are required")
    return user


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    from .attributes import attribute_defaults

    attrib = {**attribute_defaults("user"), **(user.get("attrib") or {})}
    return {
        "name": user["name"],
        "active": user.get("active", True),
        "attrib": attrib,
        "ownAttrib": sorted(user.get("attrib") or {}),
        "data": {
            **(user.get("data") or {}),
            "isAdmin": bool(user.get("isAdmin")),
            "isManager": bool(user.get("isManager")),
            "isService": bool(user.get("isService")),
        },
        "isAdmin": bool(user.get("isAdmin")),
        "isManager": bool(user.get("isManager")),
        "isService": bool(user.get("isService")),
        "isGuest": False,
        "hasPassword": bool(user.get("passwordHash")),
        "accessGroups": {},
        "defaultAccessGroups": [],
        "createdAt": user.get("createdAt"),
        "updatedAt": user.get("updatedAt"),
    }


def create_app(store: Store) -> FastAPI:
    """Build the FastAPI application serving ``store``."""
    from . import login_page, routes_addons, routes_projects, routes_system

    app = FastAPI(title="AYON local server", version=SERVER_VERSION, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.started = time.time()
    app.state.background_operations = {}

    @app.middleware("http")
    async def _catch_all(request: Request, call_next):
        # Last line of defence: a JSON 500 without any traceback in the answer.
        try:
            return await call_next(request)
        except ApiError as exc:
            return error_response(exc.status, exc.detail)
        except Exception as exc:  # noqa: BLE001
            log.error("Internal error on %s %s: %s: %s", request.method, request.url.path,
                      type(exc).__name__, exc)
            return error_response(500, "Internal server error")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg')}")
        return error_response(422, "; ".join(parts) or "Invalid request")

    app.include_router(login_page.router)  # before "/" of routes_system: it wraps it
    app.include_router(routes_system.router)
    app.include_router(routes_addons.router)
    app.include_router(routes_projects.router)
    return app
