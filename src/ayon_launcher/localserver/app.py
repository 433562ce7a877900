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

from ayon_launcher.localserver.store import Store

SERVER_VERSION = "1.16.0"  # ayon-backend release the embedded server mirrors
log = logging.getLogger("ayon_launcher.localserver")


class ApiError(Exception):
    """An expected error answered as ``{"code": ..., "detail": ...}`` with its status, as the
    real server's exceptions are."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def validation_error(request: Request, traceback: str) -> ApiError:
    """The real server's 400 for a request its models refuse (FastAPI's would be 422)."""
    path = request.url.path
    return ApiError(400, f"Request validation error in [{request.method}] {path}", path=path,
                    traceback=traceback)


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter read as the real server (pydantic) reads it; else 400."""
    value = request.query_params.get(name)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise validation_error(request, f"{name}: value could not be parsed to a boolean")


def error_response(status: int, detail: str, **extra: Any) -> JSONResponse:
    """The real server's error body: ``{"code", "detail"}`` (some errors add ``path`` ...)."""
    return JSONResponse({"code": status, "detail": detail, **extra}, status_code=status)


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 error."""
    body = await request.body()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise validation_error(request, "1: JSON decode error") from None
    if not isinstance(data, dict):
        raise validation_error(request, "body: value is not a valid dict")
    return data


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


def current_user(request: Request) -> dict[str, Any]:
    """The authenticated user of a request (Bearer session token or service ``x-api-key``),
    refused with the real server's 401 details."""
    store: Store = request.app.state.store
    key = request.headers.get("x-api-key")
    token = bearer_token(request)
    if token and not key:
        user = store.user_for_token(token)
        if user is None:
            raise ApiError(401, "Invalid session")
    else:
        if not key:
            raise ApiError(401, "Access token is missing")
        user = store.user_for_api_key(key)
        if user is None:
            raise ApiError(401, "Invalid API key")
        as_user = request.headers.get("x-as-user")
        if as_user and user.get("isService"):
            other = store.get("user", as_user)
            if other is None:
                raise ApiError(404, f"User {as_user} not found")
            user = other
    if not user.get("active", True):
        raise ApiError(401, "User is not active")  # the real server ends such sessions
    return user


def optional_user(request: Request) -> dict[str, Any] | None:
    try:
        return current_user(request)
    except ApiError:
        return None


def require_admin(request: Request, what: str = "do this") -> dict[str, Any]:
    """The current user when an administrator (a service user counts as one), else 403."""
    user = current_user(request)
    if not (user.get("isAdmin") or user.get("isService")):
        raise ApiError(403, f"Only admins can {what}")
    return user


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the real server shows it (``GET /api/users/me``): the roles live in ``data``;
    never the password hash."""
    from ayon_launcher.localserver.attributes import attribute_defaults

    own = user.get("attrib") or {}
    attrib = {k: v for k, v in {**attribute_defaults("user"), **own}.items() if v is not None}
    data = {**(user.get("data") or {}), "accessGroups": {}, "defaultAccessGroups": []}
    for flag in ("isAdmin", "isManager", "isService"):
        if user.get(flag):
            data[flag] = True
    return {
        "name": user["name"],
        "uiExposureLevel": 900 if user.get("isAdmin") else 100,
        "attrib": attrib,
        "data": data,
        "active": user.get("active", True),
        "ownAttrib": sorted(own),
        "createdAt": user.get("createdAt"),
        "updatedAt": user.get("updatedAt") or user.get("createdAt"),
    }


def create_app(store: Store) -> FastAPI:
    """Build the FastAPI application serving ``store``."""
    from ayon_launcher.localserver import routes_addons, routes_projects, routes_system

    app = FastAPI(title="AYON local server", version=SERVER_VERSION, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.routers = [routes_system.router, routes_addons.router, routes_projects.router]
    app.state.store = store
    app.state.started = time.time()
    app.state.background_operations = {}

    @app.middleware("http")
    async def _catch_all(request: Request, call_next):
        # Last line of defence: a JSON 500 without any traceback in the answer.
        try:
            return await call_next(request)
        except ApiError as exc:
            return error_response(exc.status, exc.detail, **exc.extra)
        except Exception as exc:  # noqa: BLE001
            log.error("Internal error on %s %s: %s: %s", request.method, request.url.path,
                      type(exc).__name__, exc)
            return error_response(500, "Internal server error")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.detail, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path
        if exc.status_code == 404:
            # The real server's 404 for a path no route serves.
            what = ("API endpoint" if path.startswith("/api") else
                    "Addon endpoint" if path.startswith("/addons") else "File")
            return error_response(404, f"{what} {path} not found", path=path)
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # As the real server: 400 (not FastAPI's 422), the failing fields in "traceback".
        lines = []
        for err in exc.errors():
            loc = err.get("loc", ())
            where = ".".join(str(x) for x in (loc[1:] if len(loc) > 1 else loc))
            lines.append(f"{where}: {err.get('msg')}")
        path = request.url.path
        return error_response(400, f"Request validation error in [{request.method}] {path}",
                              path=path, traceback="\n".join(lines))

    for router in app.state.routers:
        app.include_router(router)
    return app


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves, HEAD left out (tests compare it with the
    real server's routes)."""
    table = []
    for router in app.state.routers:
        for route in router.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    table.append((method, route.path))
    return table
