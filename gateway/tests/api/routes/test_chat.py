"""POST /api/chat and GET /api/history against the real Rasa and Redis."""

from __future__ import annotations

import json

import pytest

from soudan import knowledge as kb
from tests.helpers import (
    CENTER,
    COOKIE,
    issued_cookie,
    live_settings,
    payloads,
    say,
    set_cookie_headers,
    text_of,
)

rasa = pytest.mark.rasa


@rasa
async def test_a_message_is_answered_by_the_assistant(gateway, stack):
    async with gateway(**live_settings(stack)) as client:
        resp = await say(client, "知らない番号から電話がかかってきた")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    # The unknown-number answer names the center, with its number from the knowledge file
    # and a button that dials it.
    assert CENTER.number in text_of(body)
    assert CENTER.tel_uri in payloads(body)


@rasa
async def test_the_conversation_id_is_a_random_http_only_cookie_and_rasas_sender(
    gateway, stack, redis_client, key_prefix
):
    async with gateway(**live_settings(stack)) as client:
        first = await say(client, "こんにちは")
        cid = client.cookies.get(COOKIE)
        second = await say(client, "知らない番号から電話がかかってきた")
    assert first.status_code == second.status_code == 200
    assert cid is not None and len(cid) == 43
    assert client.cookies.get(COOKIE) == cid  # the same conversation
    header = next(h for h in set_cookie_headers(first) if h.startswith(f"{COOKIE}="))
    attrs = {a.strip().lower() for a in header.split(";")}
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert "secure" not in attrs  # COOKIE_SECURE is off by default (plain-HTTP development)
    # Rasa keeps the conversation under that id (its Redis tracker store).
    assert redis_client.exists(f"{key_prefix}:tracker:{cid}")


@rasa
async def test_two_browsers_get_two_conversations(gateway, stack):
    async with gateway(**live_settings(stack)) as one, gateway(**live_settings(stack)) as two:
        await say(one, "こんにちは")
        await say(two, "こんにちは")
        assert one.cookies.get(COOKIE) != two.cookies.get(COOKIE)


async def test_secure_cookie_when_configured(gateway):
    async with gateway(COOKIE_SECURE=True) as client:
        resp = await say(client, "こんにちは")
    header = next(h for h in set_cookie_headers(resp) if h.startswith(f"{COOKIE}="))
    assert "secure" in {a.strip().lower() for a in header.split(";")}


@pytest.mark.parametrize(
    "forged",
    [
        "me",  # a chosen name
        "../../etc/passwd",
        "x" * 43,  # the right shape, never issued
        "A" * 500,
        "a b;c",
    ],
)
async def test_a_cookie_value_the_gateway_did_not_issue_is_replaced(gateway, forged):
    async with gateway() as client:
        client.cookies.set(COOKIE, forged)
        resp = await say(client, "こんにちは")
    issued = issued_cookie(resp)
    assert issued != forged
    assert issued is not None and len(issued) == 43


async def test_an_issued_cookie_is_kept(gateway):
    async with gateway() as client:
        await say(client, "こんにちは")
        issued = client.cookies.get(COOKIE)
        await say(client, "もう一度")
        assert client.cookies.get(COOKIE) == issued


@rasa
async def test_history_follows_the_conversation_and_survives_a_new_gateway(gateway, stack):
    menu = kb.menu_buttons()[0]
    async with gateway(**live_settings(stack)) as client:
        assert (await client.get("/api/history")).json() == {"messages": []}
        await say(client, "知らない番号から電話がかかってきた")
        await say(client, menu.payload, label=menu.title)
        cookie = client.cookies.get(COOKIE)
    # Another gateway process (same Redis) reads the same history.
    async with gateway(**live_settings(stack)) as again:
        again.cookies.set(COOKIE, cookie)
        history = (await again.get("/api/history")).json()["messages"]
    roles = [m["role"] for m in history]
    assert roles[0] == "user" and roles.count("user") == 2 and roles[-1] == "bot"
    users = [m["text"] for m in history if m["role"] == "user"]
    # A quick reply is kept under its title, not its payload.
    assert users == ["知らない番号から電話がかかってきた", menu.title]
    assert any(CENTER.tel_uri in [b["payload"] for b in m["buttons"]] for m in history)


async def test_history_of_an_unknown_browser_is_empty(gateway):
    async with gateway() as client:
        client.cookies.set(COOKIE, "y" * 43)
        resp = await client.get("/api/history")
    assert resp.status_code == 200
    assert resp.json() == {"messages": []}


@rasa
async def test_any_rasa_process_continues_a_conversation(gateway, stack):
    """Two gateways, each with only one of the two Rasa processes: the second
    message, on the other process, is answered in the context of the first
    (the tracker is in Redis)."""
    # the first phone line of SNS defamation (みんなの人権110番), not the center
    line = kb.hotline("jinken")
    first_rasa, second_rasa = stack.rasa_urls
    async with gateway(RASA_URLS=[first_rasa], ACTIONS_URL=stack.actions_url) as client:
        first = await say(client, "SNSで誹謗中傷されていてつらいです")
        cookie = client.cookies.get(COOKIE)
    async with gateway(RASA_URLS=[second_rasa], ACTIONS_URL=stack.actions_url) as client:
        client.cookies.set(COOKIE, cookie)
        second = await say(client, "今つながりますか")
    assert first.json()["status"] == second.json()["status"] == "ok"
    # An hours question is answered for the lines in context, not the center's.
    assert line.number in text_of(second.json())
    assert CENTER.number not in text_of(second.json())


@rasa
@pytest.mark.parametrize(
    "message",
    [
        "😀😀😀",
        "\u0007\u0000知らない\u200b番号",
        "ｼﾗﾅｲ ﾊﾞﾝｺﾞｳ から電話",
        "\ud800 lone surrogate",
        "<img src=x onerror=alert(1)>",
    ],
)
async def test_odd_but_valid_messages_get_an_answer(gateway, stack, message):
    # json.dumps escapes to ASCII, so a lone surrogate travels as "\\ud800".
    async with gateway(**live_settings(stack)) as client:
        resp = await client.post(
            "/api/chat",
            content=json.dumps({"message": message}),
            headers={"Content-Type": "application/json"},
        )
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["messages"] and all(m["text"] or m["buttons"] for m in body["messages"])
