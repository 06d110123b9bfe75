"""GET /health-check/: each part ok or down, 200 or 503."""

from __future__ import annotations

import pytest

from tests.helpers import down_url, live_settings
from tests.servers import closed_port


async def health(client) -> tuple[int, dict]:
    resp = await client.get("/health-check/")
    return resp.status_code, resp.json()


@pytest.mark.rasa
async def test_all_parts_up(gateway, stack):
    async with gateway(**live_settings(stack)) as client:
        status, report = await health(client)
    assert status == 200
    assert report["status"] == "ok"
    assert report["rasa"] == {
        "status": "ok",
        "instances": [{"name": "rasa-1", "status": "ok"}, {"name": "rasa-2", "status": "ok"}],
    }
    assert report["actions"] == {"status": "ok"}
    assert report["redis"] == {"status": "ok"}


@pytest.mark.rasa
async def test_one_rasa_of_two_down_is_degraded_but_serving(gateway, stack):
    async with gateway(
        RASA_URLS=[stack.rasa_urls[0], down_url()], ACTIONS_URL=stack.actions_url
    ) as client:
        status, report = await health(client)
    assert status == 200
    assert report["status"] == "degraded"
    assert [i["status"] for i in report["rasa"]["instances"]] == ["ok", "down"]


@pytest.mark.rasa
async def test_rasa_down(gateway, stack):
    async with gateway(RASA_URLS=[down_url()], ACTIONS_URL=stack.actions_url) as client:
        status, report = await health(client)
    assert status == 503
    assert report["status"] == "down"
    assert report["rasa"]["status"] == "down"
    assert report["actions"]["status"] == "ok"
    assert report["redis"]["status"] == "ok"


@pytest.mark.rasa
async def test_action_server_down(gateway, stack):
    async with gateway(RASA_URLS=stack.rasa_urls, ACTIONS_URL=down_url()) as client:
        status, report = await health(client)
    assert status == 503
    assert report["actions"]["status"] == "down"
    assert report["rasa"]["status"] == "ok"


@pytest.mark.rasa
async def test_redis_down(gateway, stack):
    redis_down = f"redis://127.0.0.1:{closed_port()}/0"
    async with gateway(**live_settings(stack, REDIS_URL=redis_down)) as client:
        status, report = await health(client)
    assert status == 503
    assert report["redis"]["status"] == "down"
    assert report["rasa"]["status"] == "ok"


@pytest.mark.rasa
async def test_without_redis_it_is_not_needed(gateway, stack):
    async with gateway(**live_settings(stack, REDIS_URL=None)) as client:
        status, report = await health(client)
    assert status == 200
    assert report["redis"]["status"] == "not_configured"


async def test_everything_down_answers_fast_with_503(gateway):
    redis_down = f"redis://127.0.0.1:{closed_port()}/0"
    async with gateway(REDIS_URL=redis_down) as client:
        status, report = await health(client)
    assert status == 503
    assert {report[p]["status"] for p in ("rasa", "actions", "redis")} == {"down"}


async def test_liveness_does_not_depend_on_the_parts(gateway):
    async with gateway() as client:
        resp = await client.get("/health-check/live")
    assert resp.status_code == 200
    assert resp.json() == {"live": True}
