"""What /api/chat refuses, how it limits, and the headers on every answer.

None of these reach Rasa (it is down here, a closed port) except where the
message is accepted: then the reply is the gateway's own.
"""

from __future__ import annotations

import json
import re

import pytest

from app.core.security import CSP
from tests.helpers import CENTER, COOKIE, assert_center_contact, say, text_of

POLITE = re.compile(r"(です|ます|ください)。")


def assert_refused(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["status"] == "refused"
    text = text_of(body)
    assert POLITE.search(text), text
    assert "Traceback" not in resp.text
    return body


@pytest.mark.parametrize("message", ["", " ", "\n\t", "　　", " \u3000\n"])
async def test_empty_or_blank_is_refused_politely(gateway, message):
    async with gateway() as client:
        body = assert_refused(await say(client, message), 422)
    assert "入力" in text_of(body)


async def test_a_message_over_the_limit_is_refused_and_names_the_limit(gateway):
    async with gateway() as client:
        body = assert_refused(await say(client, "あ" * 10_000), 422)
    assert "1000文字" in text_of(body)


async def test_the_limit_is_a_setting(gateway):
    async with gateway(MAX_MESSAGE_LENGTH=20) as client:
        at_limit = await say(client, "い" * 20)
        over = await say(client, "い" * 21)
    assert at_limit.status_code == 200  # accepted (Rasa is down here: the gateway answers)
    assert "20文字" in text_of(assert_refused(over, 422))


@pytest.mark.parametrize(
    "content",
    [
        b'{"message": ',  # cut off
        b"{'message': 'x'}",  # not JSON
        b"[]",
        b'"just a string"',
        b"null",
        b'{"message": 5}',
        b'{"message": null}',
        b'{"text": "hello"}',
        b'{"message": "x", "sender": "someone-else"}',  # no choosing the conversation
        b"",
    ],
)
async def test_wrong_json_is_a_4xx_with_a_polite_reply(gateway, content):
    async with gateway() as client:
        resp = await client.post(
            "/api/chat", content=content, headers={"Content-Type": "application/json"}
        )
    assert_refused(resp, 422)


@pytest.mark.parametrize(
    "content",
    [
        b'{"message": "\xff\xfe\xfa"}',  # not UTF-8
        b"\x00\x01\x02\x03\xff",
        bytes(range(256)),
    ],
)
async def test_binary_or_invalid_utf8_bodies_are_a_4xx(gateway, content):
    async with gateway() as client:
        resp = await client.post(
            "/api/chat", content=content, headers={"Content-Type": "application/json"}
        )
    assert 400 <= resp.status_code < 500
    assert_refused(resp, resp.status_code)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_only_json_bodies_are_accepted(gateway, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    async with gateway() as client:
        resp = await client.post(
            "/api/chat", content=json.dumps({"message": "こんにちは"}), headers=headers
        )
    assert_refused(resp, 415)


async def test_a_huge_body_is_refused_before_it_is_read(gateway):
    async with gateway(MAX_BODY_BYTES=4096) as client:
        resp = await client.post(
            "/api/chat",
            content=json.dumps({"message": "x" * 5000}),
            headers={"Content-Type": "application/json"},
        )
    assert_refused(resp, 413)


async def test_a_huge_chunked_body_is_refused_too(gateway):
    async def chunks():
        yield b'{"message": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    async with gateway(MAX_BODY_BYTES=4096) as client:
        resp = await client.post(
            "/api/chat", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert_refused(resp, 413)


async def test_per_conversation_rate_limit(gateway, redis_client, key_prefix):
    async with gateway(RATE_LIMIT_PER_CONVERSATION=3, RATE_LIMIT_WINDOW=60) as client:
        statuses = [(await say(client, f"メッセージ{i}")).status_code for i in range(3)]
        limited = await say(client, "もう一通")
        cid = client.cookies.get(COOKIE)
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    body = limited.json()
    assert body["status"] == "rate_limited"
    assert_center_contact(body)
    # The counter (limits' fixed window) is in Redis, under the gateway's
    # prefix, and expires with its window.
    keys = list(redis_client.scan_iter(match=f"{key_prefix}:gw:rl:*conversation:{cid}*"))
    assert len(keys) == 1
    assert 0 < redis_client.ttl(keys[0]) <= 61


async def test_per_address_rate_limit_counts_every_conversation_of_the_address(gateway):
    settings = {"RATE_LIMIT_PER_CLIENT": 4, "RATE_LIMIT_PER_CONVERSATION": 100}
    async with (
        gateway(client_ip="192.0.2.10", **settings) as one,
        gateway(client_ip="192.0.2.10", **settings) as two,
        gateway(client_ip="192.0.2.11", **settings) as other,
    ):
        first = [(await say(one, "a")).status_code, (await say(two, "b")).status_code]
        first += [(await say(one, "c")).status_code, (await say(two, "d")).status_code]
        limited = await say(two, "e")
        elsewhere = await say(other, "f")
    assert first == [200, 200, 200, 200]
    assert limited.status_code == 429
    assert elsewhere.status_code == 200


async def test_rate_limits_hold_without_redis_too(gateway):
    async with gateway(REDIS_URL=None, RATE_LIMIT_PER_CONVERSATION=2) as client:
        codes = [(await say(client, "x")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def assert_security_headers(resp) -> None:
    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, (resp.request.url, name)
    csp = resp.headers["content-security-policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


async def test_security_headers_on_every_kind_of_response(gateway):
    async with gateway(MAX_BODY_BYTES=2048) as client:
        responses = [
            await client.get("/"),
            await client.get("/static/chat.js"),
            await client.get("/static/chat.css"),
            await client.get("/api/info"),
            await client.get("/api/history"),
            await client.get("/api/openapi.json"),
            await client.get("/health-check/"),
            await client.get("/no-such-page"),
            await client.put("/api/chat"),
            await say(client, "こんにちは"),
            await say(client, ""),
            await client.post("/api/chat", content=b"{", headers={"Content-Type": "text/plain"}),
            await client.post(
                "/api/chat", content=b"x" * 3000, headers={"Content-Type": "application/json"}
            ),
        ]
    assert sorted({r.status_code for r in responses}) == [200, 404, 405, 413, 415, 422, 503]
    for resp in responses:
        assert_security_headers(resp)
    api = [r for r in responses if r.request.url.path.startswith("/api/chat")]
    assert all(r.headers["cache-control"] == "no-store" for r in api)


async def test_the_chat_api_is_described_in_the_openapi_schema(gateway):
    async with gateway() as client:
        schema = (await client.get("/api/openapi.json")).json()
    chat = schema["paths"]["/api/chat"]["post"]
    body_ref = chat["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.endswith("/ChatRequest")
    ref = chat["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/ChatReply")
    # Refusals: the same shape with `detail` (was: ChatReply, without detail).
    for status in ("400", "413", "415", "422", "429"):
        ref = chat["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorReply"), status
    components = schema["components"]["schemas"]
    assert set(components["ErrorReply"]["properties"]) == {"messages", "status", "topic", "detail"}
    assert set(components["ChatRequest"]["properties"]) == {"message", "label"}
    assert set(components["ChatReply"]["properties"]) == {"messages", "status", "topic"}
    assert set(components["FeedbackRequest"]["properties"]) == {"topic", "helpful"}
    assert "/api/feedback" in schema["paths"]
    assert not any(path.startswith("/admin") for path in schema["paths"])
    assert set(components["BotMessage"]["properties"]) == {"text", "buttons", "details"}
    history = schema["paths"]["/api/history"]["get"]["responses"]["200"]
    assert history["content"]["application/json"]["schema"]["$ref"].endswith("/History")
    assert "/health-check/" in schema["paths"]


async def test_info_lists_every_hotline_from_the_knowledge_file(gateway):
    from soudan import knowledge as kb

    async with gateway() as client:
        info = (await client.get("/api/info")).json()
    assert info["center"]["number"] == CENTER.number
    assert info["center"]["tel"] == CENTER.tel_uri
    assert info["center"]["hours"] == CENTER.hours_text
    assert {h["number"] for h in info["hotlines"]} == kb.known_numbers()
    assert [b["payload"] for b in info["menu"]] == [b.payload for b in kb.menu_buttons()]
    assert info["max_message_length"] == 1000
