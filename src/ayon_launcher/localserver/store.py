"""SQLite-backed document store of the local server: users, tokens, bundles, add-ons, entities."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, project, key)
);
"""


def now_iso() -> str:
    """Current UTC time in the ISO format the AYON server uses."""
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def new_id() -> str:
    """A new entity id: 32 hex characters, as AYON uses."""
    return uuid.uuid4().hex


def secret_digest(value: str) -> str:
    """Tokens and API keys are stored only as their SHA-256 digest."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class Store:
    """A small JSON document store in one SQLite file, safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.files_dir = self.data_dir / "files"
        self.files_dir.mkdir(exist_ok=True)
        self.projects_dir = self.data_dir / "projects"
        self.projects_dir.mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.data_dir / "server.sqlite3"), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self.token_lifetime: float = 24 * 3600.0

    # -- generic documents ----------------------------------------------------------------
    def get(self, kind: str, key: str, project: str = "") -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM docs WHERE kind=? AND project=? AND key=?", (kind, project, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, key: str, data: dict[str, Any], project: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO docs (kind, project, key, data) VALUES (?, ?, ?, ?)",
                (kind, project, key, json.dumps(data)),
            )

    def delete(self, kind: str, key: str, project: str = "") -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM docs WHERE kind=? AND project=? AND key=?", (kind, project, key)
            )
        return cur.rowcount > 0

    def list(self, kind: str, project: str = "") -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM docs WHERE kind=? AND project=? ORDER BY rowid", (kind, project)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def is_empty(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM docs WHERE kind='user'").fetchone()
        return row[0] == 0

    def transaction(self) -> _Transaction:
        """Context manager: all writes inside commit together or not at all."""
        return _Transaction(self)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- users, tokens, API keys ----------------------------------------------------------------
    def create_user(self, name: str, password: str | None, *, is_admin: bool = False,
                    is_service: bool = False, full_name: str = "") -> dict[str, Any]:
        from argon2 import PasswordHasher

        user = {
            "name": name,
            "passwordHash": PasswordHasher().hash(password) if password else None,
            "isAdmin": is_admin,
            "isManager": is_admin,
            "isService": is_service,
            "isGuest": False,
            "active": True,
            "attrib": {"fullName": full_name or name, "email": "", "avatarUrl": None},
            "data": {},
            "createdAt": now_iso(),
            "updatedAt": now_iso(),
        }
        self.put("user", name, user)
        return user

    def check_password(self, name: str, password: str) -> dict[str, Any] | None:
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        user = self.get("user", name)
        if not user or not user.get("passwordHash") or not user.get("active", True):
            return None
        try:
            PasswordHasher().verify(user["passwordHash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    def issue_token(self, user_name: str, lifetime: float | None = None) -> str:
        token = secrets.token_hex(32)
        expires = time.time() + (self.token_lifetime if lifetime is None else lifetime)
        self.put("token", secret_digest(token), {"user": user_name, "expires": expires})
        return token

    def revoke_token(self, token: str) -> None:
        self.delete("token", secret_digest(token))

    def user_for_token(self, token: str) -> dict[str, Any] | None:
        record = self.get("token", secret_digest(token))
        if not record:
            return None
        if record["expires"] < time.time():
            self.delete("token", secret_digest(token))
            return None
        return self.get("user", record["user"])

    def create_api_key(self, user_name: str, key: str | None = None) -> str:
        key = key or secrets.token_hex(24)
        self.put("apikey", secret_digest(key), {"user": user_name, "preview": key[:4] + "***"})
        return key

    def revoke_api_key(self, key: str) -> bool:
        return self.delete("apikey", secret_digest(key))

    def user_for_api_key(self, key: str) -> dict[str, Any] | None:
        record = self.get("apikey", secret_digest(key))
        return self.get("user", record["user"]) if record else None

    # -- files ----------------------------------------------------------------------------
    def addon_dir(self, name: str, version: str) -> Path:
        return self.files_dir / "addons" / name / version

    def dependency_package_path(self, filename: str) -> Path:
        return self.files_dir / "dependency_packages" / filename

    def installer_path(self, filename: str) -> Path:
        return self.files_dir / "installers" / filename

    # -- project entities -----------------------------------------------------------------
    def entities(self, entity_type: str, project: str) -> list[dict[str, Any]]:
        return self.list(entity_type, project)

    def iter_entities(self, entity_type: str, project: str) -> Iterator[dict[str, Any]]:
        yield from self.list(entity_type, project)


class _Transaction:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Store:
        self.store._lock.acquire()
        self.store._db.execute("BEGIN")
        return self.store

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.store._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store._lock.release()
