"""Review from the web chat: the staff inbox (real Rasa) and feedback on answers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from staffops.records.tables import inbox_items, turns
from tests.helpers import live_settings, say

FAQ = "知らない番号から何回も電話がかかってきます"
# Gibberish with a phone number, an e-mail address and a name: a fallback. (Written
# 090-1234-5678, the number makes the assistant answer about the caller instead.)
GIBBERISH = "田中さん ぷぉぱ 09012345678 tanaka.taro@example.com ぬゅぬゅ"


async def open_items(client) -> list[dict]:
    return await client.app.state.review.items()


@pytest.mark.rasa
async def test_a_fallback_puts_the_message_masked_into_the_inbox(gateway, stack, redis_client):
    async with gateway(**live_settings(stack)) as client:
        resp = await say(client, GIBBERISH)
        assert resp.status_code == 200
        body = resp.json()
        assert body["status"] == "ok"
        items = [i for i in await open_items(client) if "ぷぉぱ" in i["text"]]
        assert len(items) == 1, items
        [item] = items
        assert item["channel"] == "web"
        assert item["reason"] in {"fallback", "low_confidence", "two_misses"}
        assert item["intents"] and {"name", "confidence"} <= set(item["intents"][0])
        assert item["bot_reply"]
        for secret in ("田中", "09012345678", "1234", "tanaka.taro", "example.com"):
            assert secret not in item["text"], item["text"]
        assert "〈名前〉" in item["text"] and "〈電話番号〉" in item["text"]
        # and stored so in the records database, and nothing of it in Redis
        with client.app.state.records.connect() as conn:
            row = conn.execute(sa.select(inbox_items).where(inbox_items.c.id == item["id"])).one()
            logged = conn.execute(sa.select(turns)).mappings().all()
        raw = str(list(row))
        assert "田中さん" not in raw and "09012345678" not in raw and "tanaka.taro" not in raw
        prefix = client.app.state.settings.REDIS_KEY_PREFIX
        assert not any(item["id"] in key for key in redis_client.scan_iter(f"{prefix}*"))
        # The turn log has the message's turn; its text only when it fell back, masked.
        assert len(logged) == 1 and logged[0]["channel"] == "web"
        assert "09012345678" not in str(dict(logged[0])) and "田中" not in str(dict(logged[0]))
        if logged[0]["fallback"]:
            assert "ぷぉぱ" in logged[0]["fallback_text"]
        else:
            assert logged[0]["fallback_text"] is None


@pytest.mark.rasa
async def test_a_button_payload_or_a_clear_question_is_not_reviewed(gateway, stack):
    async with gateway(**live_settings(stack)) as client:
        before = len(await open_items(client))
        # a question the model reads surely (above review.REVIEW_BELOW)
        resp = await say(client, "でんわんセンターの電話番号は？")
        assert resp.json()["topic"]
        await say(client, "/greet")
        items = await open_items(client)
        assert len(items) == before, [(i.get("reason"), i.get("intents")) for i in items]


@pytest.mark.rasa
async def test_feedback_is_counted_once_per_answer(gateway, stack):
    async with gateway(**live_settings(stack)) as client:
        topic = (await say(client, FAQ)).json()["topic"]
        assert topic
        before = (await client.app.state.review.feedback_counts()).get(topic, {})
        resp = await client.post("/api/feedback", json={"topic": topic, "helpful": True})
        assert resp.status_code == 200 and resp.json()["recorded"] is True
        assert "ありがとうございました" in resp.json()["message"]
        again = await client.post("/api/feedback", json={"topic": topic, "helpful": True})
        assert again.status_code == 409
        counts = (await client.app.state.review.feedback_counts())[topic]
        assert counts["helpful"] == before.get("helpful", 0) + 1
        # a topic the last answer was not about is refused
        await say(client, FAQ)
        wrong = await client.post("/api/feedback", json={"topic": "greet", "helpful": True})
        assert wrong.status_code == 409


@pytest.mark.rasa
async def test_not_helpful_puts_the_exchange_masked_into_the_inbox(gateway, stack):
    question = "田中さんの 080-9876-5432 から何回も電話がかかってきます"
    async with gateway(**live_settings(stack)) as client:
        reply = (await say(client, question)).json()
        topic = reply["topic"]
        assert topic, reply
        resp = await client.post("/api/feedback", json={"topic": topic, "helpful": False})
        assert resp.status_code == 200
        items = [
            i
            for i in await open_items(client)
            if i["reason"] == "feedback_negative" and "何回も電話" in i["text"]
        ]
        assert items
        item = items[0]
        assert "田中" not in item["text"] and "9876" not in item["text"]
        assert item["bot_reply"]
        counts = (await client.app.state.review.feedback_counts())[topic]
        assert counts["not_helpful"] >= 1


async def test_feedback_needs_a_conversation_and_json(gateway):
    async with gateway() as client:
        resp = await client.post("/api/feedback", json={"topic": "x", "helpful": True})
        assert resp.status_code == 409
        resp = await client.post("/api/feedback", data={"topic": "x", "helpful": "true"})
        assert resp.status_code in {415, 422}
        resp = await client.post("/api/feedback", json={"topic": "", "helpful": True})
        assert resp.status_code == 422


async def test_the_page_script_shows_feedback_buttons_with_text_content_only():
    from app.api.routes.pages import STATIC

    script = (STATIC / "chat.js").read_text(encoding="utf-8")
    assert "/api/feedback" in script and "役に立たなかった" in script
    assert ".innerHTML" not in script
    admin_script = (STATIC / "admin.js").read_text(encoding="utf-8")
    assert ".innerHTML" not in admin_script and "textContent" in admin_script
