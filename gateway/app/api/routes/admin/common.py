"""What every staff page shares: the project tree, rendering, messages, time format."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.api.routes.admin.signin import Staff
from app.api.routes.pages import asset_version, templates
from app.core.config import Settings
from staffops.display import date_ja, time_ja
from staffops.errors import StaffOpsError
from staffops.project import Project

# Every time on a staff page is written by one formatter (staffops.display.time_ja).
templates.env.filters["jst"] = time_ja
templates.env.filters["jst_date"] = date_ja


def project(settings: Settings) -> Project:
    # staffops writes its records (the audit log) where the gateway keeps them.
    return Project.at(settings.STAFF_PROJECT_ROOT, database_url=settings.records_url)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    staff: Staff | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        f"admin/{name}",
        {
            "staff": staff,
            "css_version": asset_version("admin.css"),
            "js_version": asset_version("admin.js"),
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def staff_message(error: Exception) -> str:
    if isinstance(error, StaffOpsError):
        return error.ja
    return f"処理できませんでした（{type(error).__name__}: {error}）"
