"""Sign-in and sign-out of the staff pages, and the staff dependencies.

Every page and action needs a signed-in staff member (pages redirect to
/admin/login, the JSON endpoints under /admin/api answer 401); every POST
needs the session's CSRF token (`StaffPost`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import SettingsDep, client_address
from app.core.config import Settings
from app.services.staff import StaffSessions, verify

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)

LOGIN_COOKIE = "soudan_staff_login"
LOGIN_FORM_SECONDS = 3600


class StaffRequired(Exception):
    """No signed-in staff member: a page redirects, a JSON endpoint answers 401."""

    def __init__(self, json: bool) -> None:
        super().__init__("staff sign-in required")
        self.json = json


@dataclass(frozen=True)
class Staff:
    name: str
    csrf: str


def sessions(request: Request) -> StaffSessions:
    return request.app.state.staff


async def current_staff(request: Request, settings: SettingsDep) -> Staff:
    session = await sessions(request).get(request.cookies.get(settings.STAFF_COOKIE_NAME))
    if session is None:
        raise StaffRequired(json=request.url.path.startswith("/admin/api/"))
    return Staff(session["name"], session["csrf"])


async def staff_post(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
    """A signed-in staff member's POST with the session's CSRF token."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, staff.csrf):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]
StaffPost = Annotated[Staff, Depends(staff_post)]


def _login_page(request: Request, settings: Settings, error: str = "", status: int = 200):
    # Imported here: common imports this module for the Staff type.
    from app.api.routes.admin.common import render

    nonce = secrets.token_urlsafe(32)
    token = sessions(request).login_token(nonce)
    response = render(request, "login.html", {"login_csrf": token, "error": error}, None, status)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_FORM_SECONDS,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=settings.COOKIE_SECURE,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _login_page(request, settings)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not sessions(request).check_login_token(nonce, csrf, LOGIN_FORM_SECONDS):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
    # A failure slot is taken before the password is checked, atomically in
    # the store (per address and per name): of any number of attempts at
    # once, at most STAFF_LOGIN_ATTEMPTS are checked. A right password gives
    # its slot back.
    name_key = hashlib.sha256(name.encode()).hexdigest()[:32]
    reservation = await request.app.state.store.reserve(
        [f"login:address:{client_address(request)}", f"login:name:{name_key}"],
        settings.STAFF_LOGIN_ATTEMPTS,
        settings.STAFF_LOGIN_WINDOW,
    )
    if not reservation.allowance.allowed:
        retry = reservation.allowance.retry_after
        response = _login_page(
            request, settings, f"試行回数が多すぎます。{retry}秒後にもう一度お試しください。", 429
        )
        response.headers["Retry-After"] = str(retry)
        return response
    accounts: Path = settings.STAFF_ACCOUNTS_FILE
    if not await asyncio.to_thread(verify, accounts, name, password):
        log.warning("staff sign-in refused from %s", client_address(request))
        return _login_page(request, settings, "名前またはパスワードが違います。", 401)
    await reservation.release()
    token, _ = await sessions(request).create(name)
    response = RedirectResponse("/admin/inbox", status_code=303)
    response.set_cookie(
        settings.STAFF_COOKIE_NAME,
        token,
        max_age=settings.STAFF_SESSION_TTL,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=settings.COOKIE_SECURE,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    log.info("staff %s signed in", name)
    return response


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep, staff: StaffPost) -> Response:
    await sessions(request).end(request.cookies.get(settings.STAFF_COOKIE_NAME))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(settings.STAFF_COOKIE_NAME, path="/admin")
    return response


@router.get("")
@router.get("/")
async def home(staff: StaffDep) -> Response:
    return RedirectResponse("/admin/inbox", status_code=303)
