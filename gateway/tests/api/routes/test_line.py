"""POST /line/webhook against a fake LINE API server (the real SDK client
pointed at it) and the real Rasa assistant."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time

import httpx
import pytest
import redis.asyncio as aioredis

from app.services.line_bot import REPLY_TOKEN_SECONDS, conversation_id, retry_key
from app.services.line_ledger import EventLedger, Pending
from soudan import knowledge as kb
from tests.fake_line import FakeLineServer
from tests.helpers import live_settings
from tests.servers import RASA_TOKEN

SECRET = "test-channel-secret"
TOKEN = "test-access-token"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def user_id() -> str:
    return "U" + secrets.token_hex(16)


def event(kind: str = "message", user: str | None = None, **extra) -> dict:
    base = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user or user_id()},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": secrets.token_hex(16),
    }
    return {**base, **extra}


def text_event(text: str, user: str | None = None, **extra) -> dict:
    message = {"id": secrets.token_hex(8), "type": "text", "text": text, "quoteToken": "q"}
    return event(message=message, user=user, **extra)


async def post(client: httpx.AsyncClient, events: list[dict], signature: str | None = "sign"):
    body = json.dumps({"destination": "Uxxxxxxxx", "events": events}).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Line-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Line-Signature"] = signature
    return await client.post("/line/webhook", content=body, headers=headers)


def texts(call) -> list[str]:
    return [m["text"] for m in call.body["messages"]]


def quick_actions(call) -> list[dict]:
    last = call.body["messages"][-1]
    return [item["action"] for item in (last.get("quickReply") or {}).get("items", [])]


@pytest.fixture
def fake_line():
    with FakeLineServer(TOKEN) as line:
        yield line


@pytest.fixture
def line_gateway(gateway, stack, fake_line):
    def open_line(**overrides):
        return gateway(
            **live_settings(stack),
            LINE_CHANNEL_SECRET=SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            LINE_API_URL=fake_line.url,
            **overrides,
        )

    return open_line


def bot_of(client):
    return client.app.state.line


async def tracker(stack, cid: str) -> dict:
    # Rasa's HTTP API needs the token (tests/test_rasa_api.py).
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.get(
            f"{stack.rasa_urls[0]}/conversations/{cid}/tracker", params={"token": RASA_TOKEN}
        )
    assert resp.status_code == 200
    return resp.json()


async def test_not_configured_is_503_and_the_rest_works(gateway):
    async with gateway() as client:
        resp = await post(client, [text_event("こんにちは")])
        assert resp.status_code == 503
        assert "LINE" in resp.json()["detail"]
        assert (await client.get("/")).status_code == 200


@pytest.mark.rasa
@pytest.mark.parametrize("signature", [None, "", "forged-signature", sign(b"other body")])
async def test_missing_or_forged_signature_is_refused_and_nothing_happens(
    line_gateway, fake_line, signature
):
    async with line_gateway() as client:
        resp = await post(client, [text_event("知らない番号から電話がきた")], signature)
        assert resp.status_code == 400
        await bot_of(client).drain()
    assert fake_line.calls == []


@pytest.mark.rasa
async def test_a_text_is_answered_by_the_assistant_with_quick_replies(line_gateway, fake_line):
    ev = text_event("知らない番号から何回も電話がかかってきます")
    async with line_gateway() as client:
        started = time.monotonic()
        resp = await post(client, [ev])
        assert resp.status_code == 200 and resp.json() == {"accepted": 1}
        assert time.monotonic() - started < 1.0  # answered before the assistant thinks
        await bot_of(client).drain()
    [reply] = fake_line.replies
    assert reply.body["replyToken"] == ev["replyToken"]
    assert reply.headers["authorization"] == f"Bearer {TOKEN}"
    text = "\n".join(texts(reply))
    assert kb.hotline("center").number in text
    actions = quick_actions(reply)
    assert {"type": "uri", "label": "でんわんセンターに電話", "uri": "tel:0361621111"} in actions
    assert any(a["type"] == "postback" and a["data"].startswith("/") for a in actions)
    # the loading animation was shown first, to the user
    [loading] = fake_line.loadings
    assert loading.body["chatId"] == ev["source"]["userId"]
    assert loading.at <= reply.at
    assert fake_line.pushes == []


@pytest.mark.rasa
async def test_a_quick_reply_postback_goes_to_the_assistant(line_gateway, fake_line):
    ev = event(
        "postback",
        postback={"data": kb.Button("国際電話を止めたい", "stop_international").payload},
        replyToken=secrets.token_hex(8),
    )
    async with line_gateway() as client:
        await post(client, [ev])
        await bot_of(client).drain()
    [reply] = fake_line.replies
    assert kb.hotline("intl_stop").number in "\n".join(texts(reply))


@pytest.mark.rasa
async def test_a_redelivered_event_is_answered_once(line_gateway, fake_line, stack):
    ev = text_event("自動音声で料金未納って電話がきた")
    again = {**ev, "deliveryContext": {"isRedelivery": True}}
    async with line_gateway() as client:
        assert (await post(client, [ev])).json() == {"accepted": 1}
        assert (await post(client, [again])).json() == {"accepted": 0}
        await bot_of(client).drain()
        assert (await post(client, [again])).json() == {"accepted": 0}
    assert len(fake_line.answers()) == 1
    # and the assistant heard it once
    cid = conversation_id(SECRET, ev["source"]["userId"])
    events = (await tracker(stack, cid))["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == [ev["message"]["text"]]


@pytest.mark.rasa
async def test_a_burst_of_100_events_is_answered_once_each(line_gateway, fake_line):
    events = [text_event(f"知らない番号から電話がありました（{i}回目）") for i in range(100)]
    async with line_gateway() as client:
        for start in range(0, 100, 10):  # ten webhook calls of ten events each
            resp = await post(client, events[start : start + 10])
            assert resp.status_code == 200
        await bot_of(client).drain()
    # Each event answered once: by its reply token, or, when the answer came
    # after the token's window (a loaded machine), by push with its retry key.
    tokens = [c.body["replyToken"] for c in fake_line.replies]
    keys = [c.headers["x-line-retry-key"] for c in fake_line.pushes]
    assert len(tokens) == len(set(tokens)) and len(keys) == len(set(keys))
    answered = {e["webhookEventId"] for e in events if e["replyToken"] in tokens}
    answered |= {e["webhookEventId"] for e in events if retry_key(e["webhookEventId"]) in keys}
    assert answered == {e["webhookEventId"] for e in events}
    assert len(tokens) + len(keys) == len(events)


@pytest.mark.rasa
async def test_an_expired_reply_token_is_answered_by_push_with_a_retry_key(line_gateway, fake_line):
    ev = text_event("国際電話を止めたい")
    fake_line.expired_tokens.add(ev["replyToken"])
    async with line_gateway() as client:
        await post(client, [ev])
        await bot_of(client).drain()
    [refused] = fake_line.replies
    [push] = fake_line.pushes
    assert push.body["to"] == ev["source"]["userId"]
    assert push.headers["x-line-retry-key"] == retry_key(ev["webhookEventId"])
    assert texts(push) == texts(refused)


@pytest.mark.rasa
async def test_a_stale_event_goes_straight_to_push(line_gateway, fake_line):
    ev = text_event("非通知の電話がしつこい")
    async with line_gateway() as client:
        bot = bot_of(client)
        real_clock = bot.clock
        bot.clock = lambda: real_clock() + REPLY_TOKEN_SECONDS + 1
        await bot.process(ev["webhookEventId"], Pending(ev, real_clock()))
    assert fake_line.replies == [] and len(fake_line.pushes) == 1


@pytest.mark.rasa
async def test_an_event_that_failed_half_way_is_answered_once(line_gateway, fake_line, stack):
    ev = text_event("SNSで悪口を書かれて困っています")
    fake_line.fail_next = 2  # the loading call and the first reply fail
    async with line_gateway() as client:
        await post(client, [ev])
        await bot_of(client).drain()
    assert len(fake_line.answers()) == 1
    cid = conversation_id(SECRET, ev["source"]["userId"])
    events = (await tracker(stack, cid))["events"]
    assert sum(e["event"] == "user" for e in events) == 1  # Rasa asked once


@pytest.mark.rasa
async def test_pending_events_left_by_a_dead_task_are_recovered_by_push(line_gateway, fake_line):
    ev = text_event("知らない番号に折り返してもいい？")
    async with line_gateway() as client:
        bot = bot_of(client)
        # as if a process had claimed it two minutes ago and died
        assert await bot.ledger.claim(ev["webhookEventId"], Pending(ev, time.time() - 120))
        # Recovery rounds at once (the gateway's own loop may be one of them):
        # one takes the event up, the others leave it.
        taken = await asyncio.gather(bot.recover(), bot.recover(), bot.recover())
        assert sorted(taken)[:2] == [0, 0]
        await bot.drain()
        assert await bot.recover() == 0
    assert fake_line.replies == [] and len(fake_line.pushes) == 1


async def test_a_left_pending_event_is_leased_to_one_taker_at_a_time(redis_url, key_prefix):
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for ledger in (EventLedger(client, f"{key_prefix}:lease:"), EventLedger(None, "m:")):
            takers = [await ledger.lease("ev1", 60) for _ in range(3)]
            assert takers == [True, False, False]
            assert await ledger.lease("ev2", 60)  # another event is free
            assert await ledger.lease("ev3", 1) and not await ledger.lease("ev3", 1)
            await asyncio.sleep(1.1)
            assert await ledger.lease("ev3", 1)  # expired: taken up again
    finally:
        await client.aclose()


@pytest.mark.rasa
async def test_long_answers_stay_within_lines_limits(line_gateway, fake_line):
    # the eligibility answer and the caller-number answer are the longest
    events = [
        text_event("カードを150万円不正利用された。補償される？"),
        text_event("+44 20 7946 0958と0570-000-111と090-1234-5678と050-3123-4567から着信"),
    ]
    async with line_gateway() as client:
        await post(client, events)
        await bot_of(client).drain()
    assert len(fake_line.replies) == 2  # the fake refuses anything over the limits
    for call in fake_line.replies:
        assert 1 <= len(call.body["messages"]) <= 5
        assert all(len(t) <= 5000 for t in texts(call))
        assert len(quick_actions(call)) <= 13


@pytest.mark.rasa
@pytest.mark.parametrize(
    "message",
    [
        {"type": "sticker", "packageId": "1", "stickerId": "1", "stickerResourceType": "STATIC"},
        {"type": "image", "contentProvider": {"type": "line"}},
        {"type": "audio", "duration": 1000, "contentProvider": {"type": "line"}},
        {"type": "location", "latitude": 35.0, "longitude": 139.0, "address": "東京"},
    ],
)
async def test_non_text_messages_get_a_polite_text_only_reply_with_the_menu(
    line_gateway, fake_line, message
):
    ev = event(message={"id": "1", "quoteToken": "q", **message})
    async with line_gateway() as client:
        await post(client, [ev])
        await bot_of(client).drain()
    [reply] = fake_line.replies
    assert "文字で送ってください" in texts(reply)[0]
    labels = [a["label"] for a in quick_actions(reply)]
    assert labels == [b.title for b in kb.menu_buttons()]


@pytest.mark.rasa
async def test_follow_greets_with_the_menu_and_unfollow_forgets(line_gateway, fake_line, stack):
    user = user_id()
    cid = conversation_id(SECRET, user)
    async with line_gateway() as client:
        await post(client, [event("follow", user=user, follow={"isUnblocked": False})])
        await bot_of(client).drain()
        [greeting] = fake_line.replies
        assert "こんにちは" in texts(greeting)[0]
        assert len(quick_actions(greeting)) >= len(kb.menu_buttons())
        await post(client, [text_event("SNSで誹謗中傷された", user=user)])
        await bot_of(client).drain()
        before = await tracker(stack, cid)
        assert before["slots"]["topic"] == "sns_defamation"
        unfollow = event("unfollow", user=user)
        unfollow.pop("replyToken")
        await post(client, [unfollow])
        await bot_of(client).drain()
    after = await tracker(stack, cid)
    assert after["slots"]["topic"] is None
    assert len(fake_line.answers()) == 2  # nothing is sent on unfollow


@pytest.mark.rasa
async def test_groups_only_when_addressed_and_then_one_to_one(line_gateway, fake_line):
    group = {"type": "group", "groupId": "C" + secrets.token_hex(16), "userId": user_id()}
    plain = text_event("知らない番号から電話きた？", source=group)
    mention = {"mentionees": [{"index": 0, "length": 4, "type": "user", "isSelf": True}]}
    addressed = text_event("@bot 教えて", source=group)
    addressed["message"]["mention"] = mention
    joined = event("join", source=group)
    async with line_gateway() as client:
        await post(client, [plain])
        await bot_of(client).drain()
        assert fake_line.answers() == []
        await post(client, [addressed, joined])
        await bot_of(client).drain()
    assert len(fake_line.replies) == 2
    assert all("1対1" in texts(c)[0] for c in fake_line.replies)
    assert fake_line.loadings == []


@pytest.mark.rasa
async def test_the_user_id_never_reaches_the_logs(line_gateway, fake_line, caplog):
    ev = text_event("自動音声の電話がきた")
    fake_line.expired_tokens.add(ev["replyToken"])
    with caplog.at_level(logging.DEBUG):
        async with line_gateway() as client:
            await post(client, [ev])
            await bot_of(client).drain()
    assert ev["source"]["userId"] not in caplog.text
    assert len(fake_line.pushes) == 1


async def test_a_body_that_is_not_a_webhook_is_refused(gateway, fake_line):
    async with gateway(
        LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_API_URL=fake_line.url
    ) as client:
        for body in [b"\xff\xfe", b"not json", b"[]", b'{"events": "x"}']:
            resp = await client.post(
                "/line/webhook", content=body, headers={"X-Line-Signature": sign(body)}
            )
            assert resp.status_code == 400, body
    assert fake_line.calls == []


# --- staff review: inbox and feedback --------------------------------------------------


def postback_event(data: str, user: str) -> dict:
    return event("postback", user=user, postback={"data": data})


@pytest.mark.rasa
async def test_a_fallback_from_line_goes_masked_into_the_staff_inbox(line_gateway, fake_line):
    text = "田中さん ぷぉぱ 09012345678 tanaka.taro@example.com ぬゅぬゅ"
    async with line_gateway() as client:
        await post(client, [text_event(text)])
        await bot_of(client).drain()
        items = [i for i in await client.app.state.review.items() if "ぷぉぱ" in i["text"]]
    [reply] = fake_line.replies
    assert texts(reply)
    [item] = [i for i in items if i["channel"] == "line"]
    assert item["reason"] in {"fallback", "low_confidence", "two_misses"}
    for secret in ("田中", "09012345678", "1234", "tanaka.taro", "example.com"):
        assert secret not in item["text"]
    assert item["bot_reply"] and item["intents"]


@pytest.mark.rasa
async def test_line_feedback_quick_replies_are_answered_by_the_gateway(
    line_gateway, fake_line, stack
):
    user = user_id()
    async with line_gateway() as client:
        review = client.app.state.review
        await post(
            client, [text_event("田中さんの 080-9876-5432 から何回も電話がかかってきます", user)]
        )
        await bot_of(client).drain()
        [answer] = fake_line.replies
        actions = quick_actions(answer)
        assert len(actions) <= 13
        feedback = [a for a in actions if a.get("data", "").startswith("feedback:")]
        assert [a["label"] for a in feedback] == ["役に立った", "役に立たなかった"]
        negative = feedback[1]["data"]
        assert negative.startswith("feedback:0:")
        topic = negative.split(":", 2)[2]
        before = (await review.feedback_counts()).get(topic, {}).get("not_helpful", 0)

        await post(client, [postback_event(negative, user)])
        await bot_of(client).drain()
        thanks = fake_line.replies[-1]
        assert texts(thanks) == [
            "ご意見ありがとうございました。いただいた内容は、回答の改善に使わせていただきます。"
        ]
        assert (await review.feedback_counts())[topic]["not_helpful"] == before + 1
        items = [
            i
            for i in await review.items()
            if i["reason"] == "feedback_negative" and i["channel"] == "line"
        ]
        assert any("何回も電話" in i["text"] and "9876" not in i["text"] for i in items)
        # once per answer: the same postback again is thanked but not counted
        await post(client, [postback_event(negative, user)])
        await bot_of(client).drain()
        assert (await review.feedback_counts())[topic]["not_helpful"] == before + 1
    # the feedback never reached the assistant
    cid = conversation_id(SECRET, user)
    events = (await tracker(stack, cid))["events"]
    assert not any((e.get("text") or "").startswith("feedback:") for e in events)


def test_feedback_quick_replies_go_first_when_13_would_be_too_many():
    from app.models import BotMessage, Button
    from app.services.line_bot import parse_feedback, with_feedback
    from app.services.line_messages import to_line

    few = [
        BotMessage(text="a", buttons=[Button(title=f"b{i}", payload=f"/p{i}") for i in range(3)])
    ]
    [line] = to_line(with_feedback(few, "faq_unknown_number"))
    datas = [i.action.data for i in line.quick_reply.items]
    assert datas[-2:] == ["feedback:1:faq_unknown_number", "feedback:0:faq_unknown_number"]
    many = [
        BotMessage(text="a", buttons=[Button(title=f"b{i}", payload=f"/p{i}") for i in range(12)])
    ]
    [line] = to_line(with_feedback(many, "faq_unknown_number"))
    assert len(line.quick_reply.items) == 12
    assert not any(i.action.data.startswith("feedback:") for i in line.quick_reply.items)
    assert parse_feedback("feedback:0:faq_x") == (False, "faq_x")
    assert parse_feedback("feedback:2:faq_x") is None and parse_feedback("/greet") is None
