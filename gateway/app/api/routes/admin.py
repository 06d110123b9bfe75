"""Staff pages (/admin): sign-in, the review inbox, feedback, audit log, retraining.

Every page and action needs a signed-in staff member (pages redirect to
/admin/login, the JSON endpoints under /admin/api answer 401); every POST
needs the session's CSRF token. Teaching, retraining, promotion and rollback
are staffops' (on STAFF_PROJECT_ROOT); each is written to its audit log with
the staff member's name.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import ReviewDep, SettingsDep, client_address
from app.api.routes.pages import asset_version, templates
from app.core.config import Settings
from app.services.staff import StaffSessions, verify
from staffops import audit, jobs, labels, models, teach
from staffops.errors import StaffOpsError
from staffops.project import Project

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)

LOGIN_COOKIE = "soudan_staff_login"
REASONS = {
    "low_confidence": "自信が低い回答",
    "fallback": "理解できなかった",
    "two_misses": "2回続けて理解できなかった",
    "feedback_negative": "「役に立たなかった」",
    "misroute": "違う話題に答えた可能性",
    "ambiguous": "読み取りが曖昧",
}
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


# --- sign-in -----------------------------------------------------------------


LOGIN_FORM_SECONDS = 3600


def _login_page(request: Request, settings: Settings, error: str = "", status: int = 200):
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


# --- inbox -------------------------------------------------------------------


async def _inbox_page(
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
    label = str
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
    return await _inbox_page(request, settings, review, staff)


async def _teach(
    request: Request,
    settings: Settings,
    review: Any,
    staff: Staff,
    item_id: str,
    operation: str,
    run,
) -> HTMLResponse:
    item = await review.get_item(item_id)
    if item is None or item.get("status") != "open":
        return await _inbox_page(
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
        return await _inbox_page(
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
    return await _inbox_page(
        request,
        settings,
        review,
        staff,
        message=done + " 反映には再学習が必要です。" if change else done,
    )


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
    return await _teach(
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
    return await _teach(
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
    return await _teach(
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


@router.post("/inbox/{item_id}/dismiss", response_class=HTMLResponse)
async def dismiss_item(
    request: Request, item_id: str, settings: SettingsDep, review: ReviewDep, staff: StaffPost
) -> HTMLResponse:
    return await _teach(request, settings, review, staff, item_id, "dismiss", lambda item: None)


# --- feedback and audit --------------------------------------------------------


@router.get("/feedback", response_class=HTMLResponse)
async def feedback_page(request: Request, review: ReviewDep, staff: StaffDep) -> HTMLResponse:
    counts = await review.feedback_counts()
    return render(request, "feedback.html", {"counts": counts}, staff)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, settings: SettingsDep, staff: StaffDep) -> HTMLResponse:
    error = ""
    try:
        entries = await asyncio.to_thread(audit.read, project(settings), 300)
    except (OSError, ValueError, SQLAlchemyError) as exc:
        entries, error = [], f"操作記録を読めません: {type(exc).__name__}"
    return render(
        request,
        "audit.html",
        {"entries": list(reversed(entries)), "actions": ACTIONS, "error": error},
        staff,
    )


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
JST = timezone(timedelta(hours=9))


def _dead_letter_view(record: dict[str, Any]) -> dict[str, Any]:
    kind = EVENT_TYPES.get(record.get("type") or "", "不明な種類")
    if record.get("type") == "message" and record.get("message_type"):
        kind += f"（{MESSAGE_TYPES.get(record['message_type'], 'その他')}）"
    try:
        received = datetime.fromtimestamp(float(record.get("received_at") or 0), JST)
        received_label = received.strftime("%Y年%m月%d日 %H:%M")
    except (TypeError, ValueError, OverflowError, OSError):
        received_label = "不明"
    return {
        **record,
        "type_label": kind,
        "reason_label": DEAD_LETTER_REASONS.get(record.get("reason") or "", "処理できませんでした"),
        "received_label": received_label,
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


# --- models: retrain, compare, promote, roll back ----------------------------------


def _model_state(settings: Settings) -> dict[str, Any]:
    proj = project(settings)
    return {
        "live": models.read_live(proj),
        "live_model": models.live_model(proj),
        "jobs": jobs.list_jobs(proj, limit=10),
        "running": jobs.running(proj),
        **jobs.PAGE_WORDS,
    }


@router.get("/models", response_class=HTMLResponse)
async def models_page(
    request: Request, settings: SettingsDep, staff: StaffDep, message: str = ""
) -> HTMLResponse:
    try:
        state = await asyncio.to_thread(_model_state, settings)
    except (OSError, ValueError) as exc:
        state = {"jobs": [], "error": f"モデルの情報を読めません（STAFF_PROJECT_ROOT）: {exc}"}
    done = {"promoted": "公開しました。", "rolled_back": "前のモデルに戻しました。"}
    return render(request, "models.html", {**state, "message": done.get(message, "")}, staff)


@router.post("/retrain")
async def retrain(request: Request, settings: SettingsDep, staff: StaffPost) -> Response:
    try:
        # No Rasa URL: the job ends with the candidate and its comparison;
        # staff promote it from the job's page.
        job_id = await asyncio.to_thread(jobs.start, project(settings), staff.name)
    except (StaffOpsError, OSError) as error:
        return render(
            request, "models.html", {"jobs": [], "error": staff_message(error)}, staff, 409
        )
    return RedirectResponse(f"/admin/jobs/{job_id}", status_code=303)


def _job(settings: Settings, job_id: str) -> dict[str, Any]:
    try:
        return jobs.status(job_id, project(settings))
    except (StaffOpsError, ValueError, OSError):
        raise HTTPException(status_code=404, detail="no such job") from None


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(
    request: Request, job_id: str, settings: SettingsDep, staff: StaffDep
) -> HTMLResponse:
    job = await asyncio.to_thread(_job, settings, job_id)
    comparison = (job.get("result") or {}).get("comparison")
    label = await asyncio.to_thread(labels.labeller, project(settings))
    context = {"job": job, "comparison": comparison, "active": job["state"] in jobs.ACTIVE}
    return render(request, "job.html", {**context, **jobs.PAGE_WORDS, "label": label}, staff)


@router.get("/api/jobs/{job_id}")
async def job_status(job_id: str, settings: SettingsDep, staff: StaffDep) -> JSONResponse:
    job = await asyncio.to_thread(_job, settings, job_id)
    body = {
        key: job.get(key) for key in ("id", "state", "stage", "percent", "messages", "finished")
    }
    body["outcome"] = (job.get("result") or {}).get("outcome")
    body["state_ja"] = jobs.STATE_JA.get(job["state"], job["state"])
    body["stage_ja"] = jobs.STAGE_JA.get(job["stage"], job["stage"])
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/jobs/{job_id}/promote", response_class=HTMLResponse)
async def promote(
    request: Request,
    job_id: str,
    settings: SettingsDep,
    staff: StaffPost,
    override: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    job = await asyncio.to_thread(_job, settings, job_id)
    candidate = (job.get("result") or {}).get("candidate")
    if job["state"] != "done" or not candidate:
        raise HTTPException(status_code=409, detail="the job has no candidate model")
    try:
        await asyncio.to_thread(
            models.promote,
            candidate,
            settings.rasa_urls,
            project(settings),
            staff.name,
            override=override.strip() or None,
            token=settings.rasa_token,
        )
    except (StaffOpsError, OSError) as error:
        state = await asyncio.to_thread(_model_state, settings)
        return render(request, "models.html", {**state, "error": staff_message(error)}, staff, 409)
    return RedirectResponse("/admin/models?message=promoted", status_code=303)


@router.post("/rollback", response_class=HTMLResponse)
async def rollback(request: Request, settings: SettingsDep, staff: StaffPost) -> Response:
    try:
        await asyncio.to_thread(
            models.rollback,
            settings.rasa_urls,
            project(settings),
            staff.name,
            token=settings.rasa_token,
        )
    except (StaffOpsError, OSError) as error:
        state = await asyncio.to_thread(_model_state, settings)
        return render(request, "models.html", {**state, "error": staff_message(error)}, staff, 409)
    return RedirectResponse("/admin/models?message=rolled_back", status_code=303)
