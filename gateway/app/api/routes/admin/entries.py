"""Teaching: an inbox group as an example of a topic or as out of scope, and a
new FAQ entry (staffops.teach does every change and checks it).

A new entry is asked for in Japanese only: a title, example questions and
the answer. Its id is generated (teach.generated_name). Facts — numbers,
hours, fees, addresses — go into the answer from a picker of the knowledge
file's entries (staffops.facts), shown in the text as ｛でんわんセンターの電話番号｝
and saved as the placeholder the bot's renderer fills in; a typed number is
refused with a Japanese explanation. The preview shows the reply as the web
chat and LINE would (preview.py): with script, /admin/api/entries/preview
answers the fragment as the staff member types; without, the 「プレビュー」
button posts the form and the page comes back with it.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ReviewDep, SettingsDep
from app.api.routes.admin import preview
from app.api.routes.admin.common import project, render, staff_message
from app.api.routes.admin.inbox import inbox_page, open_items, resolve_all, resolve_with
from app.api.routes.admin.signin import Staff, StaffDep, StaffPost
from app.core.config import Settings
from soudan.hours import now_jst
from soudan.knowledge import KnowledgeError
from staffops import audit, facts, labels, teach
from staffops.errors import Refused, StaffOpsError

router = APIRouter(prefix="/admin", include_in_schema=False)


# --- an inbox group as an example ------------------------------------------------


@router.post("/inbox/{item_id}/label", response_class=HTMLResponse)
async def label_item(
    request: Request,
    item_id: str,
    settings: SettingsDep,
    review: ReviewDep,
    staff: StaffPost,
    intent: Annotated[str, Form(max_length=100)],
    text: Annotated[str, Form(max_length=1000)] = "",
    items: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    root = project(settings)
    return await resolve_with(
        request,
        settings,
        review,
        staff,
        item_id,
        items,
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
    items: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    root = project(settings)
    return await resolve_with(
        request,
        settings,
        review,
        staff,
        item_id,
        items,
        "out_of_scope",
        lambda item: teach.label_out_of_scope(
            text.strip() or item["text"], root=root, who=staff.name, inbox_id=item_id
        ),
    )


# --- a new FAQ entry ----------------------------------------------------------------


def _form_choices(settings: Settings) -> dict[str, Any]:
    proj = project(settings)
    known = facts.facts(proj)
    hotlines = [
        {"key": key, "name": spec.get("short_name") or spec["name"], "number": str(spec["number"])}
        for key, spec in teach.knowledge_data(proj)["hotlines"].items()
    ]
    return {"facts": known, "fact_groups": facts.as_choices(known), "hotlines": hotlines}


def _draft(answer: str, hotlines: list[str], known: list[facts.Fact], root) -> dict[str, Any]:
    """The preview of a draft, or its refusal in Japanese."""
    try:
        text = facts.staff_answer(answer, known)
        if not text.strip():
            return {"empty": True}
        if hotlines:
            text, keys = teach.check_answer(text, hotlines, root)
        else:
            # Without a hotline yet the text is still shown; saving asks for one.
            text, _ = teach.check_answer(text, [next(iter(_hotline_keys(root)))], root)
            keys = []
        return preview.views(preview.draft_message(text, keys, now_jst()))
    except (Refused, KnowledgeError) as error:
        return {"refused": staff_message(error) if isinstance(error, Refused) else str(error)}


def _hotline_keys(root) -> list[str]:
    return list(teach.knowledge_data(root)["hotlines"])


async def _entry_page(
    request: Request,
    settings: Settings,
    staff: Staff,
    *,
    title: str = "",
    examples: str = "",
    answer: str = "",
    hotlines: list[str] | None = None,
    items: list[str] | None = None,
    show_preview: bool = False,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    try:
        chosen = await asyncio.to_thread(_form_choices, settings)
    except (OSError, ValueError) as exc:  # no project tree here (STAFF_PROJECT_ROOT)
        chosen = {"facts": [], "fact_groups": {}, "hotlines": []}
        error = error or f"プロジェクトのファイルを読めません（STAFF_PROJECT_ROOT）: {exc}"
        status, show_preview = (503 if status == 200 else status), False
    draft = None
    if show_preview:
        draft = await asyncio.to_thread(
            _draft, answer, hotlines or [], chosen["facts"], project(settings)
        )
    return render(
        request,
        "entry_new.html",
        {
            **chosen,
            "title": title,
            "examples": examples,
            "answer": answer,
            "chosen_hotlines": set(hotlines or []),
            "items": items or [],
            "draft": draft,
            "error": error,
        },
        staff,
        status,
    )


@router.get("/entries/new", response_class=HTMLResponse)
async def new_entry_page(
    request: Request, settings: SettingsDep, review: ReviewDep, staff: StaffDep
) -> HTMLResponse:
    """The form; from an inbox group (?items=...), its wordings are the first examples."""
    ids = [str(i) for i in request.query_params.getlist("items")][:200]
    found = await open_items(review, ids)
    texts = list(dict.fromkeys(item["text"] for item in found))
    return await _entry_page(
        request, settings, staff, examples="\n".join(texts), items=[i["id"] for i in found]
    )


@router.post("/api/entries/preview", response_class=HTMLResponse)
async def preview_fragment(
    request: Request,
    settings: SettingsDep,
    staff: StaffPost,
    answer: Annotated[str, Form(max_length=5000)] = "",
    hotlines: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    """The preview alone (admin.js puts it into the page as staff type)."""
    chosen = await asyncio.to_thread(_form_choices, settings)
    draft = await asyncio.to_thread(
        _draft, answer, hotlines or [], chosen["facts"], project(settings)
    )
    return render(request, "_preview.html", {"draft": draft}, staff)


@router.post("/entries/new", response_class=HTMLResponse)
async def new_entry(
    request: Request,
    settings: SettingsDep,
    review: ReviewDep,
    staff: StaffPost,
    title: Annotated[str, Form(max_length=200)] = "",
    examples: Annotated[str, Form(max_length=20000)] = "",
    answer: Annotated[str, Form(max_length=5000)] = "",
    hotlines: Annotated[list[str] | None, Form()] = None,
    items: Annotated[list[str] | None, Form()] = None,
    fact: Annotated[str, Form(max_length=200)] = "",
    action: Annotated[str, Form(max_length=20)] = "save",
) -> HTMLResponse:
    form = {
        "title": title,
        "examples": examples,
        "answer": answer,
        "hotlines": hotlines or [],
        "items": items or [],
    }
    if action == "insert":
        # Without script, the picker's 「差し込む」 adds the fact at the end.
        chosen = await asyncio.to_thread(_form_choices, settings)
        token = next((f.token for f in chosen["facts"] if f.token == fact), None)
        if token is None:
            return await _entry_page(
                request, settings, staff, **form, error="差し込む事実を選んでください。"
            )
        form["answer"] = f"{answer.rstrip()}{token}" if answer.strip() else token
        return await _entry_page(request, settings, staff, **form, show_preview=True)
    if action == "preview":
        return await _entry_page(request, settings, staff, **form, show_preview=True)

    root = project(settings)
    known = await asyncio.to_thread(facts.facts, root)
    lines = [line.strip() for line in examples.splitlines() if line.strip()]
    group = await open_items(review, form["items"])

    def save() -> teach.Change:
        try:
            text = facts.staff_answer(answer, known)
        except Refused as error:
            # Refused before staffops.teach sees it: logged as teach logs its own.
            audit.record(
                "refused",
                {
                    "operation": "new_topic",
                    "reason": error.en,
                    "reason_ja": error.ja,
                    "title": title,
                },
                who=staff.name,
                root=root,
            )
            raise
        return teach.new_topic(
            None,
            lines,
            text,
            hotlines or [],
            title=title,
            root=root,
            who=staff.name,
            inbox_id=group[0]["id"] if group else None,
        )

    try:
        change = await asyncio.to_thread(save)
    except (StaffOpsError, FileNotFoundError, TimeoutError) as error:
        return await _entry_page(
            request,
            settings,
            staff,
            **form,
            show_preview=True,
            error=staff_message(error),
            status=422,
        )
    if group:
        await resolve_all(settings, review, staff, group, "new_topic", change)
    name = labels.labeller(root)(change.intent)
    done = f"新しい話題「{name}」を追加しました。反映には再学習が必要です。"
    if group:
        done += f"（受信箱の{len(group)}件を処理しました）"
    return await inbox_page(request, settings, staff, message=done)
