"""Teaching from the inbox: an item as an example of a topic, as out of scope,
or as the first example of a new FAQ entry (staffops.teach does the change)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ReviewDep, SettingsDep
from app.api.routes.admin.common import project
from app.api.routes.admin.inbox import resolve_with
from app.api.routes.admin.signin import StaffPost
from staffops import teach

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.post("/inbox/{item_id}/label", response_class=HTMLResponse)
async def label_item(
    request: Request,
    item_id: str,
    settings: SettingsDep,
    review: ReviewDep,
    staff: StaffPost,
    intent: Annotated[str, Form(max_length=100)],
    text: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    root = project(settings)
    return await resolve_with(
        request,
        settings,
        review,
        staff,
        item_id,
        "label",
        lambda item: teach.label(
            text.strip() or item["text"], intent, root=root, who=staff.name, inbox_id=item_id
        ),
    )


@router.post("/inbox/{item_id}/out-of-scope", response_class=HTMLResponse)
async def out_of_scope_item(
    request: Request,
    item_id: str,
    settings: SettingsDep,
    review: ReviewDep,
    staff: StaffPost,
    text: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    root = project(settings)
    return await resolve_with(
        request,
        settings,
        review,
        staff,
        item_id,
        "out_of_scope",
        lambda item: teach.label_out_of_scope(
            text.strip() or item["text"], root=root, who=staff.name, inbox_id=item_id
        ),
    )


@router.post("/inbox/{item_id}/new-topic", response_class=HTMLResponse)
async def new_topic_item(
    request: Request,
    item_id: str,
    settings: SettingsDep,
    review: ReviewDep,
    staff: StaffPost,
    name: Annotated[str, Form(max_length=100)],
    examples: Annotated[str, Form(max_length=20000)],
    answer: Annotated[str, Form(max_length=5000)],
    hotlines: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    root = project(settings)
    lines = [line.strip() for line in examples.splitlines() if line.strip()]
    return await resolve_with(
        request,
        settings,
        review,
        staff,
        item_id,
        "new_topic",
        lambda item: teach.new_topic(
            name.strip(),
            lines,
            answer.strip(),
            hotlines or [],
            root=root,
            who=staff.name,
            inbox_id=item_id,
        ),
    )
