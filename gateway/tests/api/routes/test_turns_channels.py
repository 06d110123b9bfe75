"""One turn service for both channels (app.services.turns), through the
routes: the web chat and LINE against the stand-in Rasa and the fake LINE
API; and the one Redis policy (down: memory answers, never a 500)."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.routes.test_line import SECRET, TOKEN, event, post, text_event, user_id
from tests.fake_line import FakeLineServer
from tests.helpers import say
from tests.servers import closed_port
from tests.stand_in_rasa import PLAIN, StandInRasa

SAME = ("text", "reason", "intents", "bot_reply")


@pytest.fixture
def fake_line():
    with FakeLineServer(TOKEN) as line:
        yield line


def settings(rasa: str, fake_line, **overrides) -> dict:
    return {
        "RASA_URLS": [rasa],
        "ACTIONS_URL": rasa,
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_URL": fake_line.url,
        **overrides,
    }


async def on_line(client, text: str, user: str) -> None:
    assert (await post(client, [text_event(text, user)])).status_code == 200
    await client.app.state.line.drain()


async def settle(client) -> None:
    # The web chat records a turn in the response's background task, which
    # httpx's in-process transport runs before it returns; a moment for LINE.
    await asyncio.sleep(0.05)


async def test_the_same_turn_is_the_same_inbox_item_on_the_web_and_on_line(gateway, fake_line):
    with StandInRasa(review="low_confidence") as rasa:
        async with gateway(**settings(rasa, fake_line)) as client:
            assert (await say(client, PLAIN)).status_code == 200
            await on_line(client, PLAIN, user_id())
            await settle(client)
            found = await client.app.state.review.items()
    by_channel = {i["channel"]: i for i in found}
    assert set(by_channel) == {"web", "line"}, found
    web, line = by_channel["web"], by_channel["line"]
    assert {k: web[k] for k in SAME} == {k: line[k] for k in SAME}
    assert web["reason"] == "low_confidence" and web["text"] == PLAIN


@pytest.mark.parametrize("typed", ["役に立たなかった", "違う"])
async def test_a_misroute_typed_after_an_answer_reaches_the_inbox_from_both_channels(
    gateway, fake_line, typed
):
    with StandInRasa() as rasa:
        async with gateway(**settings(rasa, fake_line)) as client:
            await say(client, PLAIN)
            await say(client, typed)
            user = user_id()
            await on_line(client, PLAIN, user)
            await on_line(client, typed, user)
            await settle(client)
            found = await client.app.state.review.items()
    misroutes = {i["channel"]: i for i in found if i["reason"] == "misroute"}
    assert set(misroutes) == {"web", "line"}, found
    # The answer that missed, the same on both channels.
    assert misroutes["web"]["text"] == PLAIN
    assert {k: misroutes["web"][k] for k in SAME} == {k: misroutes["line"][k] for k in SAME}


@pytest.mark.parametrize("redis", ["redis", "memory"])
async def test_an_answer_left_alone_reaches_the_inbox_after_the_idle_time(
    gateway, fake_line, redis
):
    idle = {"ABANDONED_AFTER": 0.3, "ABANDONED_SWEEP_EVERY": 0.1}
    if redis == "memory":
        idle["REDIS_URL"] = None
    with StandInRasa() as rasa:
        async with (
            gateway(**settings(rasa, fake_line, **idle)) as left,
            gateway(**settings(rasa, fake_line, **idle)) as continued,
        ):
            await say(left, PLAIN)
            await say(continued, PLAIN)
            await say(continued, "ほかには？")
            await on_line(left, PLAIN, user_id())
            user = user_id()
            await on_line(continued, PLAIN, user)
            await on_line(continued, "ほかには？", user)
            await asyncio.sleep(1.0)
            # Both gateways write the same records (and, with Redis, share
            # the pending answers: each is taken by one sweep only).
            found = await left.app.state.review.items()
    abandoned = [i for i in found if i["reason"] == "abandoned"]
    assert sorted(i["channel"] for i in abandoned) == ["line", "web"], found
    # Only the conversations left alone, each once.
    assert all(i["text"] == PLAIN and i["bot_reply"] for i in abandoned)


async def test_feedback_means_the_answer_was_not_abandoned(gateway, fake_line):
    idle = {"ABANDONED_AFTER": 0.3, "ABANDONED_SWEEP_EVERY": 0.1}
    with StandInRasa() as rasa:
        async with gateway(**settings(rasa, fake_line, **idle)) as client:
            topic = (await say(client, PLAIN)).json()["topic"]
            resp = await client.post("/api/feedback", json={"topic": topic, "helpful": True})
            assert resp.status_code == 200
            user = user_id()
            await on_line(client, PLAIN, user)
            rated = event("postback", user, postback={"data": f"feedback:1:{topic}"})
            assert (await post(client, [rated])).status_code == 200
            await client.app.state.line.drain()
            await asyncio.sleep(1.0)
            found = await client.app.state.review.items()
    assert not [i for i in found if i["reason"] == "abandoned"], found


async def test_redis_down_costs_state_never_a_reply(gateway, fake_line):
    down = f"redis://127.0.0.1:{closed_port()}/0"
    with StandInRasa() as rasa:
        async with gateway(**settings(rasa, fake_line, REDIS_URL=down)) as client:
            first = await say(client, PLAIN)
            assert first.status_code == 200 and first.json()["status"] == "ok"
            # The conversation lives in this process's memory meanwhile.
            again = await say(client, PLAIN)
            assert again.status_code == 200
            history = await client.get("/api/history")
            assert history.status_code == 200 and len(history.json()["messages"]) == 4
            feedback = await client.post(
                "/api/feedback", json={"topic": first.json()["topic"], "helpful": False}
            )
            assert feedback.status_code == 200
            await on_line(client, PLAIN, user_id())
            assert (await client.get("/health-check/")).json()["redis"]["status"] == "down"


@pytest.mark.parametrize("redis", ["redis", "memory"])
async def test_the_limiter_answers_429_with_retry_after(gateway, redis):
    extra = {"REDIS_URL": None} if redis == "memory" else {}
    async with gateway(RATE_LIMIT_PER_CLIENT=2, **extra) as client:
        codes = [(await say(client, f"m{i}")).status_code for i in range(2)]
        limited = await say(client, "m2")
        feedback = await client.post("/api/feedback", json={"topic": "x", "helpful": True})
    assert codes == [200, 200]
    for refused in (limited, feedback):
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["status"] == "rate_limited"
