"""LINE webhook benchmark: from webhook receipt to the reply call, under a
burst of 100 events.

    make bench-line            (runs with .venv/gateway's python; MODEL set by make)

Starts the action server and Rasa (conversations in Redis), a fake LINE API
server on loopback (gateway/tests/fake_line.py), and the gateway under
uvicorn pointed at it. Sends 100 signed webhook requests at once, one text
event each from 100 users (messages from the held-out set), then measures,
per event, the time from sending the webhook to the reply call reaching the
fake server, and the webhook's own answer time (LINE wants it within about a
second). Prints figures; asserts nothing. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "gateway"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_gateway import heldout_texts, percentile  # noqa: E402
from tests.fake_line import FakeLineServer  # noqa: E402

from tests.servers import start_gateway, start_stack, stop, wait_until_up  # noqa: E402

SECRET = "bench-channel-secret"
TOKEN = "bench-access-token"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def signed(events: list[dict]) -> tuple[bytes, str]:
    body = json.dumps({"destination": "Ubench", "events": events}, ensure_ascii=False).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return body, base64.b64encode(digest).decode()


def text_event(text: str) -> dict:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": "U" + secrets.token_hex(16)},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": secrets.token_hex(16),
        "message": {"id": secrets.token_hex(6), "type": "text", "text": text, "quoteToken": "q"},
    }


async def burst(url: str, events: list[dict]) -> tuple[dict[str, float], list[float]]:
    """Send one webhook per event, all at once; returns when each was sent
    (by reply token) and how long each webhook took to answer."""
    sent: dict[str, float] = {}
    acks: list[float] = []

    async def one(client: httpx.AsyncClient, event: dict) -> None:
        body, signature = signed([event])
        sent[event["replyToken"]] = time.monotonic()
        resp = await client.post(
            f"{url}/line/webhook",
            content=body,
            headers={"Content-Type": "application/json", "X-Line-Signature": signature},
        )
        acks.append(time.monotonic() - sent[event["replyToken"]])
        resp.raise_for_status()

    limits = httpx.Limits(max_connections=len(events))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await asyncio.gather(*(one(client, e) for e in events))
    return sent, acks


def forget_keys(prefix: str) -> None:
    """Delete what this run left in Redis (only keys under its own prefix)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rasa", type=int, default=1, help="Rasa processes behind the gateway")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    model = Path(os.environ["MODEL"])
    prefix = "benchline" + secrets.token_hex(3)
    logs = ROOT / "results" / "bench-line-logs"
    texts = heldout_texts()
    events = [text_event(texts[i % len(texts)]) for i in range(args.events)]

    stack = start_stack(model, logs, REDIS_URL, prefix, rasa_count=args.rasa)
    gateway = None
    try:
        with FakeLineServer(TOKEN) as line:
            env = {
                "RASA_URLS": ",".join(stack.rasa_urls),
                "ACTIONS_URL": stack.actions_url,
                "REDIS_URL": REDIS_URL,
                "REDIS_KEY_PREFIX": f"{prefix}:gw:",
                "LINE_CHANNEL_SECRET": SECRET,
                "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                "LINE_API_URL": line.url,
            }
            gateway, url = start_gateway(env, logs / "gateway.log")
            wait_until_up(f"{url}/health-check/live", gateway, 30)
            started = time.monotonic()
            sent, acks = await burst(url, events)
            deadline = time.monotonic() + args.timeout
            while len(line.answers()) < len(events) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            total = time.monotonic() - started
            answered = {c.body.get("replyToken"): c.at for c in line.replies if c.status == 200}
            delays = [answered[t] - sent[t] for t in sent if t in answered]
    finally:
        stop(gateway)
        stack.close()
        forget_keys(prefix)

    print(f"\nLINE webhook, burst of {len(events)} events, {args.rasa} Rasa process(es)")
    print(f"  answered by reply: {len(delays)} / {len(events)} in {total:.1f} s")
    print(
        "  webhook answered (200):   "
        f"p50 {percentile(acks, 0.5) * 1000:.0f} ms, p95 {percentile(acks, 0.95) * 1000:.0f} ms, "
        f"max {max(acks) * 1000:.0f} ms"
    )
    if delays:
        print(
            "  receipt → reply call:     "
            f"p50 {percentile(delays, 0.5):.2f} s, p95 {percentile(delays, 0.95):.2f} s, "
            f"max {max(delays):.2f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
