"""Security figures of the gateway (issue 16), printed; asserts nothing.

    make bench-security         (runs with .venv/gateway's python)

- sign-in: passwords really checked when 20 and 100 wrong guesses arrive at
  once (limit STAFF_LOGIN_ATTEMPTS = 5), with Redis and in memory;
- fuzz: 2,000 seeded malformed bodies over /api/chat, /api/feedback and the
  signed /line/webhook (the generator of the gateway's fuzz test): statuses
  and 5xx count;
- the LINE webhook's answer time for 10 events with Redis hung (a server
  that accepts connections and never answers), against the same with Redis
  up.

The app runs in-process (httpx's ASGI transport), Rasa down (closed port),
LINE against the tests' fake LINE API on loopback, Redis at
BENCH_REDIS_URL (db 11 by default) under a key prefix of its own, deleted
at the end. Masking figures: `make bench-masking`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "gateway"))

from app.api.routes import admin  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.services.staff import add_account, verify  # noqa: E402
from tests.api.routes.test_hostile_bodies import fuzz_body, sign  # noqa: E402
from tests.api.routes.test_line_poison import HungRedis  # noqa: E402
from tests.fake_line import FakeLineServer  # noqa: E402
from tests.helpers import down_url  # noqa: E402

from tests.staff import csrf_of  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
PREFIX = f"benchsec{secrets.token_hex(4)}:"
PASSWORD = "correct horse battery staple"


class App:
    def __init__(self, **settings) -> None:
        values = {
            "RASA_URLS": [down_url()],
            "ACTIONS_URL": down_url(),
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": PREFIX,
            **settings,
        }
        self.app = create_app(Settings(**values))

    async def __aenter__(self) -> httpx.AsyncClient:
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app, client=("10.99.0.1", 40000))
        self.client = httpx.AsyncClient(
            transport=transport, base_url="http://localhost", timeout=60
        )
        return self.client

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()
        await self.lifespan.__aexit__(*exc)


async def guesses_checked(parallel: int, use_redis: bool, accounts: Path) -> int:
    checked = []

    def counting(path, name, password):
        checked.append(name)
        return verify(path, name, password)

    admin.verify = counting
    name = f"bench{parallel}{int(use_redis)}{secrets.token_hex(2)}"
    add_account(accounts, name, PASSWORD)
    settings = {"STAFF_ACCOUNTS_FILE": accounts, "STAFF_LOGIN_ATTEMPTS": 5}
    if not use_redis:
        settings["REDIS_URL"] = None
    async with App(**settings) as client:
        page = await client.get("/admin/login")
        nonce = client.cookies.get(admin.LOGIN_COOKIE, path="/admin")
        client.cookies.clear()
        form = {"name": name, "csrf": csrf_of(page.text)}
        cookie = {"Cookie": f"{admin.LOGIN_COOKIE}={nonce}"}
        await asyncio.gather(
            *(
                client.post("/admin/login", data={**form, "password": f"guess {i}"}, headers=cookie)
                for i in range(parallel)
            )
        )
    admin.verify = verify
    return len(checked)


async def fuzz(line_url: str) -> dict[int, int]:
    rng = random.Random(16)
    routes = ["/api/chat"] * 5 + ["/api/feedback"] * 2 + ["/line/webhook"] * 3
    statuses: dict[int, int] = {}
    settings = {
        "LINE_CHANNEL_SECRET": "fuzz-channel-secret",
        "LINE_CHANNEL_ACCESS_TOKEN": "fuzz-token",
        "LINE_API_URL": line_url,
        "RATE_LIMIT_PER_CLIENT": 100_000,
        "RATE_LIMIT_PER_CONVERSATION": 100_000,
    }
    async with App(**settings) as client:
        for _ in range(2_000):
            route = rng.choice(routes)
            body = fuzz_body(rng, route)
            headers = {"Content-Type": rng.choice(["application/json"] * 8 + ["text/plain", ""])}
            if route == "/line/webhook":
                headers["X-Line-Signature"] = sign(body) if rng.random() < 0.8 else "forged"
            resp = await client.post(route, content=body, headers=headers)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        await client._transport.app.state.line.drain()  # type: ignore[attr-defined]
    return statuses


def line_events(n: int) -> tuple[bytes, str]:
    import json

    events = [
        {
            "type": "message",
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": "U" + secrets.token_hex(16)},
            "webhookEventId": "01" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": False},
            "replyToken": secrets.token_hex(16),
            "message": {
                "id": "1",
                "type": "text",
                "text": "知らない番号から電話",
                "quoteToken": "q",
            },
        }
        for _ in range(n)
    ]
    body = json.dumps({"destination": "U" + "0" * 32, "events": events}).encode()
    return body, sign(body)


async def webhook_ms(line_url: str, redis_url: str, rounds: int = 5) -> list[float]:
    settings = {
        "LINE_CHANNEL_SECRET": "fuzz-channel-secret",
        "LINE_CHANNEL_ACCESS_TOKEN": "fuzz-token",
        "LINE_API_URL": line_url,
        "REDIS_URL": redis_url,
    }
    times = []
    async with App(**settings) as client:
        for _ in range(rounds):
            body, signature = line_events(10)
            started = time.perf_counter()
            resp = await client.post(
                "/line/webhook",
                content=body,
                headers={"Content-Type": "application/json", "X-Line-Signature": signature},
            )
            times.append((time.perf_counter() - started) * 1000)
            resp.raise_for_status()
        await client._transport.app.state.line.drain()  # type: ignore[attr-defined]
    return times


async def main() -> None:
    logging.disable(logging.WARNING)  # the failures are the point: no log lines
    with tempfile.TemporaryDirectory() as tmp:
        accounts = Path(tmp) / "accounts.json"
        print("sign-in, 5 failures allowed per address and name:")
        for use_redis in (True, False):
            for parallel in (20, 100):
                checked = await guesses_checked(parallel, use_redis, accounts)
                where = "Redis " if use_redis else "memory"
                print(f"  {parallel:3d} wrong guesses at once ({where}): {checked} checked")
    with FakeLineServer("fuzz-token") as line:
        statuses = await fuzz(line.url)
        errors = sum(n for code, n in statuses.items() if code >= 500)
        print(f"fuzz: 2000 bodies, statuses {dict(sorted(statuses.items()))}, {errors} × 5xx")
        up = await webhook_ms(line.url, REDIS_URL)
        hung = HungRedis()
        try:
            down = await webhook_ms(line.url, f"redis://127.0.0.1:{hung.port}/0")
        finally:
            hung.close()
        print("LINE webhook, 10 events per request (ms, 5 requests):")
        print(f"  Redis up:   median {sorted(up)[2]:.0f}, max {max(up):.0f}")
        print(f"  Redis hung: median {sorted(down)[2]:.0f}, max {max(down):.0f}")
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{PREFIX}*", count=500):
        client.delete(key)
    client.close()


if __name__ == "__main__":
    asyncio.run(main())
