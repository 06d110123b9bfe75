"""No input gives a 5xx: deep JSON, bytes that are not UTF-8, and a seeded fuzz
of about 2,000 bodies over every route that takes one; forwarded headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import time

import httpx
import pytest

from tests.fake_line import FakeLineServer
from tests.servers import start_gateway, stop

LINE_SECRET = "fuzz-channel-secret"
JSON = {"Content-Type": "application/json"}
REFUSED_STATUSES = {"refused", "rate_limited"}


def sign(body: bytes) -> str:
    digest = hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def nested(depth: int, inner: str = '"x"') -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


def assert_documented_refusal(resp: httpx.Response, status: int) -> None:
    """The chat's shape: polite Japanese messages, a status, what was wrong."""
    assert resp.status_code == status, resp.text[:300]
    body = resp.json()
    assert body["status"] in REFUSED_STATUSES
    assert body["messages"] and all(m["text"] for m in body["messages"])
    assert "detail" in body


@pytest.fixture
def fake_line():
    with FakeLineServer("fuzz-token") as line:
        yield line


@pytest.fixture
def hostile_gateway(gateway, fake_line):
    def open_it(**overrides):
        return gateway(
            LINE_CHANNEL_SECRET=LINE_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN="fuzz-token",
            LINE_API_URL=fake_line.url,
            RATE_LIMIT_PER_CLIENT=100_000,
            RATE_LIMIT_PER_CONVERSATION=100_000,
            **overrides,
        )

    return open_it


@pytest.mark.parametrize("depth", [33, 1_000, 2_000, 10_000])
async def test_deep_json_is_a_422_on_every_route(hostile_gateway, depth):
    async with hostile_gateway() as client:
        for path, body in [
            ("/api/chat", b'{"message": ' + nested(depth) + b"}"),
            ("/api/feedback", b'{"topic": ' + nested(depth) + b', "helpful": true}'),
            ("/api/chat", nested(depth, "{}").replace(b"[", b'{"a":').replace(b"]", b"}")),
        ]:
            assert_documented_refusal(await client.post(path, content=body, headers=JSON), 422)
        body = b'{"events": ' + nested(depth) + b"}"
        resp = await client.post(
            "/line/webhook", content=body, headers={**JSON, "X-Line-Signature": sign(body)}
        )
        assert_documented_refusal(resp, 422)


async def test_json_just_within_the_depth_limit_is_read(hostile_gateway):
    async with hostile_gateway() as client:
        resp = await client.post("/api/chat", content=b'{"message": "[[[[[[[[[["}', headers=JSON)
        assert resp.status_code == 200  # brackets inside a string do not count
        resp = await client.post(
            "/api/chat", content=b'{"message": ' + nested(20) + b"}", headers=JSON
        )
        assert_documented_refusal(resp, 422)  # read, and refused for its shape
        assert resp.json()["detail"][0]["type"] != "json_too_deep"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xed\xa0\x80",  # U+D800 encoded (CESU-8 style): a surrogate is never UTF-8
        b"\xed\xa0\xbd\xed\xb8\x80",  # an emoji as two encoded surrogates
        b"\xed\xbf\xbf",  # U+DFFF
        b"\xc0\xaf",  # an overlong "/"
        b"\xff",
        b"\xe3\x81",  # cut in the middle of a character
    ],
)
async def test_bytes_that_are_not_utf8_are_a_400(hostile_gateway, raw):
    async with hostile_gateway() as client:
        for path, body in [
            ("/api/chat", b'{"message": "\xe3\x81\x82' + raw + b'"}'),
            ("/api/feedback", b'{"topic": "' + raw + b'", "helpful": true}'),
        ]:
            assert_documented_refusal(await client.post(path, content=body, headers=JSON), 400)
        body = b'{"events": [], "destination": "' + raw + b'"}'
        resp = await client.post(
            "/line/webhook", content=body, headers={**JSON, "X-Line-Signature": sign(body)}
        )
        assert resp.status_code == 400


async def test_lone_surrogates_written_as_json_escapes_are_replaced(hostile_gateway):
    """`"\\ud800"` is valid JSON text (ASCII), what a browser sends for an emoji
    cut in half: the message is read, the surrogate replaced by "?"."""
    async with hostile_gateway() as client:
        body = b'{"message": "\\u3042\\ud800\\u3044"}'
        resp = await client.post("/api/chat", content=body, headers=JSON)
        assert resp.status_code == 200 and resp.json()["status"] == "unavailable"
        history = (await client.get("/api/history")).json()["messages"]
        assert history[0]["text"] == "あ?い"


# --- the fuzz ------------------------------------------------------------------

TEXTS = ["", " ", "知らない番号", "😀" * 50, "\x00\x01", "\u202e", "a" * 5000, "\\", '"']


def random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 6 else 6)
    if kind == 0:
        return rng.choice(TEXTS)
    if kind == 1:
        return rng.choice([0, -1, 1.5, 10**30, -(10**30), 1e308, True, False, None])
    if kind == 2:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(0, 40)))
    if kind == 3:
        return rng.randrange(-(10**6), 10**6)
    if kind == 4:
        return rng.choice(["message", "topic", "helpful", "events", "label"])
    if kind == 5:
        return None
    if kind == 6:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = ["message", "label", "topic", "helpful", "events", "sender", "x", ""]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def random_event(rng: random.Random) -> dict:
    """A LINE event, often broken: unknown types, null texts, missing ids."""
    event = {
        "type": rng.choice(["message", "follow", "unfollow", "postback", "undefined", "join", 5]),
        "timestamp": rng.choice([int(time.time() * 1000), "now", None]),
        "mode": "active",
        "webhookEventId": rng.choice(["01" + secrets.token_hex(12).upper(), "", None, 7]),
        "deliveryContext": {"isRedelivery": rng.random() < 0.2},
        "source": rng.choice(
            [
                {"type": "user", "userId": "U" + secrets.token_hex(16)},
                {"type": "user"},
                {"type": "user", "userId": None},
                {"type": "group", "groupId": "C" + secrets.token_hex(16)},
                None,
                "user",
            ]
        ),
    }
    if rng.random() < 0.7:
        event["replyToken"] = rng.choice([secrets.token_hex(16), None, 3])
    if rng.random() < 0.6:
        event["message"] = rng.choice(
            [
                {"id": "1", "type": "text", "text": random_json(rng), "quoteToken": "q"},
                {"id": "1", "type": "text", "text": None},
                {"id": "1", "type": "sticker", "packageId": "1", "stickerId": "1"},
                {"type": "unknown"},
                random_json(rng),
            ]
        )
    if rng.random() < 0.2:
        event["postback"] = {"data": random_json(rng)}
    return event


def fuzz_body(rng: random.Random, route: str) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    if kind == 1:
        return nested(rng.choice([10, 500, 999, 1_000, 5_000, 10_000]))
    if kind == 2:
        text = json.dumps(random_json(rng)).encode()
        return text[: rng.randrange(0, len(text) + 1)]  # cut short
    if kind == 3:
        return b'{"message": "' + rng.choice([b"\xed\xa0\x80", b"\xff", b"\xc0\xaf"]) + b'"}'
    if kind == 4:
        return b'{"message": ' + b"9" * rng.choice([10, 5_000, 20_000]) + b"}"
    if route == "/line/webhook" and kind >= 5:
        events = [random_event(rng) for _ in range(rng.randrange(0, 4))]
        return json.dumps({"destination": "U" + "0" * 32, "events": events}).encode()
    if route == "/api/chat" and kind >= 7:
        return json.dumps({"message": random_json(rng)}, ensure_ascii=rng.random() < 0.5).encode()
    if route == "/api/feedback" and kind >= 7:
        return json.dumps({"topic": random_json(rng), "helpful": random_json(rng)}).encode()
    return json.dumps(random_json(rng), ensure_ascii=rng.random() < 0.5).encode()


FUZZ_BODIES = 2_000


async def test_2000_fuzzed_bodies_give_no_5xx_and_the_documented_shape(hostile_gateway):
    rng = random.Random(16)
    routes = ["/api/chat"] * 5 + ["/api/feedback"] * 2 + ["/line/webhook"] * 3
    statuses: dict[int, int] = {}
    async with hostile_gateway() as client:
        bot = client.app.state.line
        for _ in range(FUZZ_BODIES):
            route = rng.choice(routes)
            body = fuzz_body(rng, route)
            headers = {"Content-Type": rng.choice(["application/json"] * 8 + ["text/plain", ""])}
            if route == "/line/webhook":
                headers["X-Line-Signature"] = sign(body) if rng.random() < 0.8 else "forged"
            resp = await client.post(route, content=body, headers=headers)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
            assert resp.status_code < 500, (route, body[:200], resp.text[:300])
            payload = resp.json()  # always JSON
            if route.startswith("/api/"):
                if resp.status_code >= 400:
                    assert payload["status"] in REFUSED_STATUSES and payload["messages"], payload
                else:
                    assert "messages" in payload or "recorded" in payload
            elif resp.status_code == 200:
                assert isinstance(payload["accepted"], int)
            else:
                assert "detail" in payload
        await bot.drain()
        # Every event taken in was answered or parked: nothing left to retry forever.
        assert await bot.ledger.pending() == {}
    print(f"\nfuzz: {FUZZ_BODIES} bodies, statuses {dict(sorted(statuses.items()))}, 0 × 5xx")
    assert sum(statuses.values()) == FUZZ_BODIES


# --- forwarded headers ---------------------------------------------------------


async def test_forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy(gateway):
    spoofed = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(5)]
    async with gateway(client_ip="10.7.0.1", RATE_LIMIT_PER_CLIENT=3) as client:
        codes = [
            (await client.post("/api/chat", json={"message": "こんにちは"}, headers=h)).status_code
            for h in spoofed
        ]
    assert codes == [200, 200, 200, 429, 429]  # one address: the peer's
    async with gateway(
        client_ip="10.7.0.2", RATE_LIMIT_PER_CLIENT=3, TRUSTED_PROXIES="10.7.0.2"
    ) as client:
        codes = [
            (await client.post("/api/chat", json={"message": "こんにちは"}, headers=h)).status_code
            for h in spoofed
        ]
    assert codes == [200] * 5  # behind the trusted proxy: each client its own


def test_a_real_gateway_does_not_believe_a_local_clients_forwarded_for(
    redis_url, key_prefix, tmp_path
):
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: run with
    --no-proxy-headers (tests/servers.py, run.sh, the Dockerfile), the
    gateway's TRUSTED_PROXIES is the one place that trusts a proxy."""
    proc, url = start_gateway(
        {
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": f"{key_prefix}:xff:",
            "RATE_LIMIT_PER_CLIENT": "3",
            "RASA_URLS": "http://127.0.0.1:9",
        },
        tmp_path / "gateway.log",
    )
    try:
        codes = []
        for i in range(5):
            resp = httpx.post(
                f"{url}/api/chat",
                json={"message": "こんにちは"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                timeout=30,
            )
            codes.append(resp.status_code)
    finally:
        stop(proc)
    assert codes == [200, 200, 200, 429, 429]
