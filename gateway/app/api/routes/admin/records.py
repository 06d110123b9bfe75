"""Pages that read the records: feedback per topic, the audit log, LINE dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import ReviewDep, SettingsDep
from app.api.routes.admin.common import project, render
from app.api.routes.admin.signin import StaffDep, StaffPost
from staffops import audit, labels
from staffops.display import time_ja
from staffops.inbox import REASONS as INBOX_REASONS

router = APIRouter(prefix="/admin", include_in_schema=False)

ACTIONS = {
    "label": "例文を追加",
    "new_topic": "新しい話題",
    "refused": "変更の拒否",
    "retrain": "再学習",
    "retrain_failed": "再学習の失敗",
    "promote": "公開",
    "promote_refused": "公開の拒否",
    "promote_failed": "公開の失敗",
    "rollback": "元に戻す",
    "inbox_resolve": "受信箱の処理",
}


@router.get("/feedback", response_class=HTMLResponse)
async def feedback_page(
    request: Request, settings: SettingsDep, review: ReviewDep, staff: StaffDep
) -> HTMLResponse:
    counts = await review.feedback_counts()
    try:
        label = await asyncio.to_thread(labels.labeller, project(settings))
    except (OSError, ValueError):
        label = str
    # Topics by their Japanese name: staff never read an id.
    named = {topic: {**c, "label": label(topic)} for topic, c in counts.items()}
    return render(request, "feedback.html", {"counts": named}, staff)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, settings: SettingsDep, staff: StaffDep) -> HTMLResponse:
    error = ""
    try:
        entries = await asyncio.to_thread(audit.read, project(settings), 300)
    except (OSError, ValueError, SQLAlchemyError) as exc:
        entries, error = [], f"操作記録を読めません: {type(exc).__name__}"
    try:
        name = await asyncio.to_thread(labels.labeller, project(settings))
    except (OSError, ValueError):  # no project tree: the ids as they are
        name = str
    shown = [{**e, "shown": shown_details(e.get("details") or {}, name)} for e in reversed(entries)]
    return render(
        request, "audit.html", {"entries": shown, "actions": ACTIONS, "error": error}, staff
    )


# What staff read in an audit entry, by its Japanese name; the rest (model
# paths, server URLs, ids) stays in the record, folded under 「技術的な詳細」.
DETAIL_NAMES = {
    "operation": "操作",
    "intent": "話題",
    "title": "話題の名前",
    "examples": "例文",
    "answer": "回答文",
    "hotlines": "案内する窓口",
    "reason_ja": "理由",
    "reasons": "判定の理由",
    "notes": "注意",
    "error": "エラー",
    "override": "公開した理由",
}
OPERATIONS = {
    "label": "例文を追加",
    "out_of_scope": "対象外にする",
    "new_topic": "新しい話題",
    "dismiss": "学習せずに外す",
}


def shown_details(
    details: dict[str, Any], name: Callable[[str], str]
) -> dict[str, list[tuple[str, str]]]:
    """An audit entry's details as (Japanese name, value) pairs, and the rest."""
    plain, technical = [], []
    for key, value in details.items():
        if key == "reason" and details.get("reason_ja"):
            continue  # the English twin of reason_ja
        if key == "reason" and value in INBOX_REASONS:
            plain.append(("受信箱の理由", INBOX_REASONS[value]))
        elif key == "operation":
            plain.append(("操作", OPERATIONS.get(str(value), str(value))))
        elif key == "intent":
            plain.append(("話題", name(str(value))))
        elif key in DETAIL_NAMES and value not in (None, "", [], {}):
            text = "、".join(map(str, value)) if isinstance(value, list) else str(value)
            plain.append((DETAIL_NAMES[key], text))
        elif value not in (None, "", [], {}):
            technical.append((key, str(value)))
    return {"plain": plain, "technical": technical}


# --- LINE dead letters ---------------------------------------------------------

EVENT_TYPES = {
    "message": "メッセージ",
    "follow": "友だち追加",
    "unfollow": "ブロック",
    "postback": "ボタンの操作",
    "join": "グループへの参加",
    "leave": "グループからの退出",
    "memberJoined": "グループのメンバー追加",
    "memberLeft": "グループのメンバー退出",
    "unsend": "送信取り消し",
    "videoPlayComplete": "動画の再生完了",
    "beacon": "ビーコン",
    "accountLink": "アカウント連携",
}
MESSAGE_TYPES = {
    "text": "文字",
    "image": "画像",
    "video": "動画",
    "audio": "音声",
    "file": "ファイル",
    "location": "位置情報",
    "sticker": "スタンプ",
}
DEAD_LETTER_REASONS = {
    "unknown_type": "対応していない種類のイベントです",
    "unreadable": "形式が正しくないため読み取れませんでした",
    "no_user": "送り主がわからないため返信できません",
    "failed": "何度試しても返信できませんでした",
}


def _dead_letter_view(record: dict[str, Any]) -> dict[str, Any]:
    kind = EVENT_TYPES.get(record.get("type") or "", "不明な種類")
    if record.get("type") == "message" and record.get("message_type"):
        kind += f"（{MESSAGE_TYPES.get(record['message_type'], 'その他')}）"
    return {
        **record,
        "type_label": kind,
        "reason_label": DEAD_LETTER_REASONS.get(record.get("reason") or "", "処理できませんでした"),
        # received_at is a Unix time; 0 or missing reads 「不明」.
        "received_label": time_ja(record.get("received_at") or None),
    }


@router.get("/line/dead-letters", response_class=HTMLResponse)
async def dead_letters_page(
    request: Request, settings: SettingsDep, staff: StaffDep, message: str = ""
) -> HTMLResponse:
    letters = await request.app.state.dead_letters.list(limit=300)
    done = {"removed": "確認済みにしました。"}
    return render(
        request,
        "dead_letters.html",
        {
            "letters": [_dead_letter_view(r) for r in letters],
            "ttl_days": int(settings.DEAD_LETTER_TTL_DAYS),
            "message": done.get(message, ""),
        },
        staff,
    )


@router.post("/line/dead-letters/{record_id}/remove")
async def remove_dead_letter(request: Request, record_id: str, staff: StaffPost) -> Response:
    await request.app.state.dead_letters.remove(record_id[:64], staff.name)
    return RedirectResponse("/admin/line/dead-letters?message=removed", status_code=303)
