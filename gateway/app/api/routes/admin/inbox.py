"""The review inbox: what the assistant did not understand well, for staff to handle.

Near-identical items are one group (staffops.inbox_groups): a count, the
newest time, every reason and channel; handling a group handles each of its
items, each resolution in the audit log. The page is filtered by its query
string (reason, channel, topic, days, words): a plain GET form, no script
needed. Teaching from a group is in entries.py; this file lists and resolves.
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
from staffops.inbox import CHANNELS, REASONS, Inbox
from staffops.inbox_groups import group, read_filters

router = APIRouter(prefix="/admin", include_in_schema=False)

CHANNEL_NAMES = {"web": "ウェブ", "line": "LINE"}
# Enough for a day's worth of misses; groups make far fewer rows to read.
LIST_LIMIT = 500


def inbox_of(request: Request) -> Inbox:
    # The records engine the gateway keeps (app.state.records): the inbox's
    # own filters and topics, which the review service does not pass through.
    return Inbox(request.app.state.records)


def choices(settings: Settings) -> dict[str, Any]:
    """What staff can choose from: every intent and catalogue entry by its
    Japanese name and one line about it, sorted by name; hotlines by name."""
    proj = project(settings)
    label, describe = labels.labeller(proj), labels.describer(proj)
    knowledge = teach.knowledge_data(proj)
    intents = sorted(
        (
            {"name": i, "title": label(i), "about": describe(i)}
            for i in teach.label_names(proj)
            if i != teach.OUT_OF_SCOPE
        ),
        key=lambda c: c["title"],
    )
    hotlines = [
        {"key": key, "name": spec.get("short_name") or spec["name"], "number": str(spec["number"])}
        for key, spec in knowledge["hotlines"].items()
    ]
    return {"intents": intents, "hotlines": hotlines, "label": label}


def group_views(items: list[dict[str, Any]], label: Callable[[str], str]) -> list[dict[str, Any]]:
    views = []
    for found in group(items):
        first = found.first
        views.append(
            {
                "id": found.id,
                "ids": found.ids,
                "count": found.count,
                "newest": found.newest,
                "text": first["text"],
                "others": found.texts[1:],
                "reasons": [REASONS.get(r, "その他") for r in found.reasons],
                "channels": [CHANNEL_NAMES.get(c, c) for c in found.channels],
                "intents": [
                    {**guess, "label": label(guess.get("name"))}
                    for guess in first.get("intents") or []
                ],
                "bot_reply": first.get("bot_reply"),
            }
        )
    return views


async def inbox_page(
    request: Request,
    settings: Settings,
    staff: Staff,
    message: str = "",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    chosen: dict[str, Any] = {"intents": [], "hotlines": [], "label": str}
    try:
        chosen = await asyncio.to_thread(choices, settings)
    except (OSError, ValueError) as exc:  # no project tree here (STAFF_PROJECT_ROOT)
        error = error or f"プロジェクトのファイルを読めません（STAFF_PROJECT_ROOT）: {exc}"
        status = 503 if status == 200 else status
    label = chosen["label"]
    inbox = inbox_of(request)
    topics = await asyncio.to_thread(inbox.topics)
    filters, notes = read_filters(
        dict(request.query_params),
        reasons=REASONS,
        channels=CHANNELS,
        topics=topics,
    )
    items = await asyncio.to_thread(inbox.list, limit=LIST_LIMIT, filters=filters)
    groups = group_views(items, label)
    return render(
        request,
        "inbox.html",
        {
            "groups": groups,
            "item_count": len(items),
            "intents": chosen["intents"],
            "filters": filters,
            "filter_q": " ".join(filters.words),
            "reasons": REASONS,
            "channels": {c: CHANNEL_NAMES.get(c, c) for c in sorted(CHANNELS)},
            "topics": sorted(((t, label(t)) for t in topics), key=lambda pair: pair[1]),
            "message": message,
            "error": error or " ".join(notes),
        },
        staff,
        status,
    )


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, settings: SettingsDep, staff: StaffDep) -> HTMLResponse:
    return await inbox_page(request, settings, staff)


async def open_items(review: Any, ids: list[str]) -> list[dict[str, Any]]:
    found = []
    for item_id in dict.fromkeys(ids):
        item = await review.get_item(item_id[:40])
        if item is not None and item.get("status") == "open":
            found.append(item)
    return found


async def resolve_all(
    settings: Settings,
    review: Any,
    staff: Staff,
    items: list[dict[str, Any]],
    operation: str,
    change: teach.Change | None,
) -> None:
    """Resolve each item with the same resolution, each in the audit log."""
    resolution = {"operation": operation, **(change.as_dict() if change else {})}
    group_id = items[0]["id"]
    for item in items:
        await review.resolve(item["id"], staff.name, resolution)
        await asyncio.to_thread(
            audit.record,
            "inbox_resolve",
            {
                "item": item["id"],
                "operation": operation,
                "reason": item.get("reason"),
                "group": group_id,
                "group_size": len(items),
            },
            who=staff.name,
            root=project(settings),
        )


async def resolve_with(
    request: Request,
    settings: Settings,
    review: Any,
    staff: Staff,
    item_id: str,
    also: list[str] | None,
    operation: str,
    run,
) -> HTMLResponse:
    """Run a change for an open item (`run(item)`: a teach.Change or None), then
    resolve it and the other open items of its group (`also`), each audited;
    the inbox page says what happened."""
    items = await open_items(review, [item_id, *(also or [])])
    if not items or items[0]["id"] != item_id:
        return await inbox_page(
            request,
            settings,
            staff,
            error="この項目はありません（処理済みか期限切れ）。",
            status=404,
        )
    try:
        change = await asyncio.to_thread(run, items[0])
    except (StaffOpsError, FileNotFoundError, TimeoutError) as error:
        return await inbox_page(request, settings, staff, error=staff_message(error), status=422)
    await resolve_all(settings, review, staff, items, operation, change)
    label = labels.labeller(project(settings))
    done = {
        "label": f"「{label(change.intent)}」の例文として追加しました。" if change else "",
        "out_of_scope": "対象外の例文として追加しました。",
        "dismiss": "受信箱から外しました（学習なし）。",
    }[operation]
    if len(items) > 1:
        done += f"（まとめて{len(items)}件を処理しました）"
    return await inbox_page(
        request,
        settings,
        staff,
        message=done + " 反映には再学習が必要です。" if change else done,
    )


@router.post("/inbox/{item_id}/dismiss", response_class=HTMLResponse)
async def dismiss_item(
    request: Request, item_id: str, settings: SettingsDep, review: ReviewDep, staff: StaffPost
) -> HTMLResponse:
    also = (await request.form()).getlist("items")
    return await resolve_with(
        request, settings, review, staff, item_id, [str(a) for a in also], "dismiss", lambda i: None
    )
