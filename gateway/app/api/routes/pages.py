"""The web chat page."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.api.deps import SettingsDep
from soudan import knowledge as kb
from soudan.hours import now_jst, open_state

APP = Path(__file__).resolve().parents[2]
STATIC = APP / "static"
templates = Jinja2Templates(directory=APP / "templates")

router = APIRouter(tags=["pages"])


@cache
def asset_version(name: str) -> str:
    """A short hash of a static file, so a changed file is never taken from cache."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


@router.api_route(
    "/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False
)
async def index(request: Request, settings: SettingsDep) -> HTMLResponse:
    center = kb.hotline("center")
    # soudan's own words for what is open now (e.g. which channel of the line).
    state = open_state(center, now_jst())
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "center": {**center.as_dict(), "short_name": center.short_name},
            "center_state": state.label() if state.known else "",
            # The emergency call on the first screen: its number from soudan.
            "emergency": kb.hotline("police_emergency").as_dict(),
            "max_length": settings.MAX_MESSAGE_LENGTH,
            "css_version": asset_version("chat.css"),
            "js_version": asset_version("chat.js"),
        },
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)
