"""Models: retrain, follow a job, compare with the live model, promote, roll back.

Retraining, promotion and rollback are staffops' (on STAFF_PROJECT_ROOT);
each is written to its audit log with the staff member's name.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.api.deps import SettingsDep
from app.api.routes.admin.common import project, render, staff_message
from app.api.routes.admin.signin import StaffDep, StaffPost
from app.core.config import Settings
from staffops import jobs, labels
from staffops import models as staff_models
from staffops.display import time_ja
from staffops.errors import StaffOpsError

router = APIRouter(prefix="/admin", include_in_schema=False)


def _model_state(settings: Settings) -> dict[str, Any]:
    proj = project(settings)
    return {
        "live": staff_models.read_live(proj),
        "live_model": staff_models.live_model(proj),
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
    # Times as every staff page writes them (the page's script only copies text).
    body["messages"] = [
        {**m, "time_ja": time_ja(m.get("time"))} for m in body.get("messages") or []
    ]
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
            staff_models.promote,
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
            staff_models.rollback,
            settings.rasa_urls,
            project(settings),
            staff.name,
            token=settings.rasa_token,
        )
    except (StaffOpsError, OSError) as error:
        state = await asyncio.to_thread(_model_state, settings)
        return render(request, "models.html", {**state, "error": staff_message(error)}, staff, 409)
    return RedirectResponse("/admin/models?message=rolled_back", status_code=303)
