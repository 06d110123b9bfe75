"""The review inbox: what the assistant did not understand well, for staff to handle.

Teaching from an item is in entries.py; this file lists the items and
resolves them (each resolution audited).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ReviewDep, SettingsDep
from app.api.routes.admin.common import project, render, staff_message
from app.api.routes.admin.signin import Staff, StaffDep, StaffPost
from app.core.config import Settings
from staffops import audit, labels, teach
from staffops.errors import StaffOpsError

router = APIRouter(prefix="/admin", include_in_schema=False)

REASONS = {
    "low_confidence": "自信が低い回答",
    "fallback": "理解できなかった",
    "two_misses": "2回続けて理解できなかった",
    "feedback_negative": "「役に立たなかった」",
    "misroute": "違う話題に答えた可能性",
    "ambiguous": "読み取りが曖昧",
}


async def inbox_page(
    request: Request,
    settings: Settings,
    review: Any,
    staff: Staff,
    message: str = "",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    intents: list[str] = []
    hotlines: list[str] = []
    label: Callable[[str], str] = str
    try:
        proj = project(settings)
        intents, hotlines, label = await asyncio.to_thread(
            lambda: (
                teach.label_names(proj),
                sorted(teach.knowledge_data(proj)["hotlines"]),
                labels.labeller(proj),
            )
        )
    except (OSError, ValueError) as exc:  # no project tree here (STAFF_PROJECT_ROOT)
        error = error or f"プロジェクトのファイルを読めません（STAFF_PROJECT_ROOT）: {exc}"
        status = 503 if status == 200 else status
    items = await review.items()
    for item in items:
        item["reason_label"] = REASONS.get(item.get("reason"), item.get("reason"))
        for guess in item.get("intents") or []:
            guess["label"] = label(guess.get("name"))
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            # Japanese names, sorted by them; the value stays the id the tools need.
            "intents": sorted(
                ((i, label(i)) for i in intents if i != teach.OUT_OF_SCOPE),
                key=lambda pair: pair[1],
            ),
            "hotlines": hotlines,
            "message": message,
            "error": error,
        },
        staff,
        status,
    )


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(
    request: Request, settings: SettingsDep, review: ReviewDep, staff: StaffDep
) -> HTMLResponse:
    return await inbox_page(request, settings, review, staff)


async def resolve_with(
    request: Request,
    settings: Settings,
    review: Any,
    staff: Staff,
    item_id: str,
    operation: str,
    run,
) -> HTMLResponse:
    """Run a change for an open item (`run(item)`: a teach.Change or None), then
    resolve it and audit the resolution; the inbox page says what happened."""
    item = await review.get_item(item_id)
    if item is None or item.get("status") != "open":
        return await inbox_page(
            request,
            settings,
            review,
            staff,
            error="この項目はありません（処理済みか期限切れ）。",
            status=404,
        )
    try:
        change = await asyncio.to_thread(run, item)
    except (StaffOpsError, FileNotFoundError, TimeoutError) as error:
        return await inbox_page(
            request, settings, review, staff, error=staff_message(error), status=422
        )
    resolution = {"operation": operation, **(change.as_dict() if change else {})}
    await review.resolve(item_id, staff.name, resolution)
    await asyncio.to_thread(
        audit.record,
        "inbox_resolve",
        {"item": item_id, "operation": operation, "reason": item.get("reason")},
        who=staff.name,
        root=project(settings),
    )
    done = {
        "label": f"「{change.intent}」の例文として追加しました。" if change else "",
        "out_of_scope": "対象外の例文として追加しました。",
        "new_topic": f"新しい話題「{change.intent}」を追加しました。" if change else "",
        "dismiss": "受信箱から外しました（学習なし）。",
    }[operation]
    if change and change.notes:
        done += " " + " ".join(change.notes)
    return await inbox_page(
        request,
        settings,
        review,
        staff,
        message=done + " 反映には再学習が必要です。" if change else done,
    )


@router.post("/inbox/{item_id}/dismiss", response_class=HTMLResponse)
async def dismiss_item(
    request: Request, item_id: str, settings: SettingsDep, review: ReviewDep, staff: StaffPost
) -> HTMLResponse:
    return await resolve_with(
        request, settings, review, staff, item_id, "dismiss", lambda item: None
    )
