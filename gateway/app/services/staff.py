"""Staff accounts and sessions of the admin pages (/admin).

Accounts: a JSON file (STAFF_ACCOUNTS_FILE, default var/staff_accounts.json,
not in git) `{"accounts": {"<name>": {"hash": "$argon2id$...", "created": ...}}}`,
written by `python -m app.staff_accounts` (argon2-cffi, argon2id).

Sessions: a random token in an HttpOnly, SameSite=Strict cookie; in Redis
(`<prefix>staff:session:<sha256 of the token>` → {"name", "csrf"}, expiring
STAFF_SESSION_TTL seconds after the last request), or in this process's
memory without Redis. Each session has its CSRF token, required in every
POST (the hidden form field `csrf`, or the `X-CSRF-Token` header).

The sign-in form has no session yet: its CSRF token is
`<issued at>.<HMAC-SHA256(SECRET_KEY, nonce + issued at)>`, where the nonce
is a random value in a cookie of the sign-in page. The client can choose the
cookie, but not a token that matches it without the server's key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.config import Settings
from app.core.redis import Expiring, Shared, as_shared

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MIN_PASSWORD = 10
hasher = PasswordHasher()
# Verified against when the name is unknown, so both cases take as long.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    pass


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"accounts": {}}
    data = json.loads(path.read_text(encoding="utf-8") or "{}")
    data.setdefault("accounts", {})
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def add_account(path: Path, name: str, password: str, *, replace: bool = False) -> None:
    if not NAME.fullmatch(name):
        raise AccountError("name: 1 to 40 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    data = _read(path)
    if name in data["accounts"] and not replace:
        raise AccountError(f"{name} exists (use `passwd` to change the password)")
    data["accounts"][name] = {
        "hash": hasher.hash(password),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _write(path, data)


def remove_account(path: Path, name: str) -> None:
    data = _read(path)
    if data["accounts"].pop(name, None) is None:
        raise AccountError(f"no account {name}")
    _write(path, data)


def account_names(path: Path) -> list[str]:
    return sorted(_read(path)["accounts"])


def verify(path: Path, name: str, password: str) -> bool:
    """Whether the password is the account's (as long for an unknown name)."""
    try:
        account = _read(path)["accounts"].get(name)
    except (OSError, ValueError):
        log.exception("staff accounts file %s is unreadable", path)
        account = None
    stored = account.get("hash") if isinstance(account, dict) else None
    try:
        hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not None


class StaffSessions:
    def __init__(self, settings: Settings, redis: Shared | aioredis.Redis | None) -> None:
        self.shared = as_shared(redis, settings.REDIS_KEY_PREFIX, settings.REDIS_TIMEOUT)
        self.prefix = settings.REDIS_KEY_PREFIX
        self.ttl = settings.STAFF_SESSION_TTL
        # Sessions made while Redis failed (app.core.redis's fallback).
        self.memory: Expiring[dict[str, str]] = Expiring()
        key = settings.SECRET_KEY.get_secret_value() if settings.SECRET_KEY else ""
        # Unset: a key of this process (its sign-in forms work only here).
        self.secret = (key or secrets.token_urlsafe(32)).encode()

    @property
    def redis(self) -> aioredis.Redis | None:
        return self.shared.redis

    # --- the sign-in form's CSRF token ---

    def _login_mac(self, nonce: str, issued: str) -> str:
        digest = hmac.new(self.secret, f"login:{nonce}:{issued}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")

    def login_token(self, nonce: str) -> str:
        """The token of a sign-in form whose page set the cookie `nonce`."""
        issued = str(int(time.time()))
        return f"{issued}.{self._login_mac(nonce, issued)}"

    def check_login_token(self, nonce: str, token: str, max_age: int) -> bool:
        """Whether `token` was issued here, for this cookie, within `max_age` seconds."""
        issued, _, mac = token.partition(".")
        if not nonce or not issued.isdigit() or not mac:
            return False
        if not 0 <= time.time() - int(issued) <= max_age:
            return False
        return hmac.compare_digest(mac, self._login_mac(nonce, issued))

    def _key(self, token: str) -> str:
        digest = hashlib.sha256(token.encode()).hexdigest()
        return f"{self.prefix}staff:session:{digest}"

    async def create(self, name: str) -> tuple[str, dict[str, str]]:
        token = secrets.token_urlsafe(32)
        session = {"name": name, "csrf": secrets.token_urlsafe(32)}
        await self._put(token, session)
        return token, session

    async def _put(self, token: str, session: dict[str, str]) -> None:
        key = self._key(token)
        await self.shared.run(
            "staff session",
            lambda r: r.set(key, json.dumps(session), ex=self.ttl),
            lambda: self.memory.put(key, session, self.ttl),
        )

    async def get(self, token: str | None) -> dict[str, str] | None:
        """The session of a cookie's token, its expiry pushed back; None if unknown."""
        if not token or len(token) > 100:
            return None
        key = self._key(token)
        found = self.memory.get(key, extend=self.ttl)
        if found is not None or not self.shared.configured:
            return found
        raw = await self.shared.run(
            "staff session lookup", lambda r: r.getex(key, ex=self.ttl), lambda: None
        )
        return json.loads(raw) if raw else None

    async def end(self, token: str | None) -> None:
        if not token:
            return
        key = self._key(token)
        self.memory.pop(key)
        await self.shared.run("staff sign-out", lambda r: r.delete(key), lambda: None)
