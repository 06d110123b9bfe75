"""Is every part of the assistant up?"""

from __future__ import annotations

import asyncio

import aiohttp
from fastapi import APIRouter, Request, Response

from app.api.deps import RasaDep, SettingsDep, StoreDep
from app.models import HealthReport, InstanceHealth, PartHealth
from app.services.rasa import get_ok

router = APIRouter(prefix="/health-check", tags=["health"])


def _status(ok: bool) -> str:
    return "ok" if ok else "down"


@router.get(
    "/",
    response_model=HealthReport,
    response_model_exclude_none=True,
    responses={503: {"model": HealthReport, "description": "A needed part is down"}},
)
async def health_check(
    request: Request, response: Response, settings: SettingsDep, rasa: RasaDep, store: StoreDep
) -> HealthReport:
    """Rasa (each server), the action server and Redis, each `ok` or `down`.

    200 while chat works (at least one Rasa server, the action server, and
    Redis when REDIS_URL is set); 503 otherwise.
    """
    http: aiohttp.ClientSession = request.app.state.http
    timeout = settings.HEALTH_TIMEOUT
    actions_url = settings.actions_url

    async def actions_up() -> bool:
        return actions_url is not None and await get_ok(http, f"{actions_url}/health", timeout)

    # All at once: the check takes as long as the slowest part, at most `timeout`.
    *rasa_ok, actions_ok, redis_ok = await asyncio.gather(
        *(rasa.probe(url, timeout) for url in settings.rasa_urls),
        actions_up(),
        asyncio.wait_for(store.ping(), timeout),
        return_exceptions=True,
    )
    rasa_ok = [ok is True for ok in rasa_ok]
    instances = [
        InstanceHealth(name=f"rasa-{i + 1}", status=_status(ok)) for i, ok in enumerate(rasa_ok)
    ]
    rasa_part = PartHealth(status=_status(any(rasa_ok)), instances=instances)
    actions_part = PartHealth(
        status=_status(actions_ok is True) if actions_url else "not_configured"
    )
    redis_part = PartHealth(
        status=_status(redis_ok is True) if store.configured else "not_configured"
    )
    needed_up = all(p.status != "down" for p in (rasa_part, actions_part, redis_part))
    if not needed_up:
        status = "down"
    elif all(rasa_ok):
        status = "ok"
    else:
        status = "degraded"
    response.status_code = 200 if needed_up else 503
    return HealthReport(status=status, rasa=rasa_part, actions=actions_part, redis=redis_part)


@router.get("/live", include_in_schema=False)
async def live() -> dict[str, bool]:
    """The gateway process answers (for container health checks)."""
    return {"live": True}
