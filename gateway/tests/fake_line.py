"""A local stand-in for LINE's Messaging API, on loopback, for the tests.

The gateway's real SDK client (line-bot-sdk v3) is pointed at it with
LINE_API_URL. It records every call (path, headers, body, arrival time) and
answers the way LINE does for what the tests need: a reply token is good
once and can be marked expired; a push retry key seen before gets 409; a
request over LINE's limits (5 messages, 5,000 characters, 13 quick-reply
items, 20-character labels) gets 400; a wrong access token gets 401.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import free_port


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    status: int = 0  # what the fake answered


@dataclass
class FakeLine:
    token: str
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    expired_tokens: set[str] = field(default_factory=set)
    used_tokens: set[str] = field(default_factory=set)
    retry_keys: set[str] = field(default_factory=set)
    fail_next: int = 0  # answer this many calls with 500 first

    def of(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    @property
    def replies(self) -> list[Call]:
        return self.of("/v2/bot/message/reply")

    @property
    def pushes(self) -> list[Call]:
        return self.of("/v2/bot/message/push")

    @property
    def loadings(self) -> list[Call]:
        return self.of("/v2/bot/chat/loading/start")

    def answers(self) -> list[Call]:
        """The replies and pushes that were accepted: what the person received."""
        return [c for c in self.replies + self.pushes if c.status == 200]

    def reset(self) -> None:
        self.calls.clear()
        self.expired_tokens.clear()


def _over_limits(messages: list[dict]) -> str | None:
    if not 1 <= len(messages) <= 5:
        return f"{len(messages)} messages"
    for message in messages:
        if len(message.get("text", "")) > 5000:
            return "text over 5000 characters"
        items = (message.get("quickReply") or {}).get("items") or []
        if len(items) > 13:
            return f"{len(items)} quick-reply items"
        for item in items:
            label = item["action"].get("label", "")
            if not 1 <= len(label) <= 20:
                return f"label {label!r}"
    return None


def create_fake(line: FakeLine) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next):
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:  # the rich menu's image
            body = {"bytes": len(raw), "content-type": request.headers.get("content-type")}
        call = Call(request.url.path, dict(request.headers), body, time.monotonic())
        line.calls.append(call)
        if request.headers.get("authorization") != f"Bearer {line.token}":
            response = JSONResponse({"message": "Authentication failed"}, status_code=401)
        elif line.fail_next > 0:
            line.fail_next -= 1
            response = JSONResponse({"message": "Internal error"}, status_code=500)
        else:
            response = await call_next(request)
        call.status = response.status_code
        return response

    @app.post("/v2/bot/message/reply")
    async def reply(request: Request):
        body = await request.json()
        token = body.get("replyToken")
        if token in line.expired_tokens or token in line.used_tokens:
            return JSONResponse({"message": "Invalid reply token"}, status_code=400)
        if problem := _over_limits(body.get("messages", [])):
            return JSONResponse({"message": f"The request body has 1 error(s): {problem}"}, 400)
        line.used_tokens.add(token)
        return {"sentMessages": [{"id": str(i), "quoteToken": "q"} for i in range(5)]}

    @app.post("/v2/bot/message/push")
    async def push(request: Request):
        body = await request.json()
        key = request.headers.get("x-line-retry-key")
        if key and key in line.retry_keys:
            return JSONResponse({"message": "The retry key is already accepted"}, 409)
        if problem := _over_limits(body.get("messages", [])):
            return JSONResponse({"message": f"The request body has 1 error(s): {problem}"}, 400)
        if key:
            line.retry_keys.add(key)
        return {"sentMessages": [{"id": "1", "quoteToken": "q"}]}

    @app.post("/v2/bot/chat/loading/start")
    async def loading(request: Request):
        return JSONResponse({}, status_code=202)

    @app.post("/v2/bot/richmenu/validate")
    async def validate_menu(request: Request):
        body = await request.json()
        areas = body.get("areas") or []
        if not areas or len(areas) > 20 or not body.get("chatBarText"):
            return JSONResponse({"message": "invalid rich menu"}, status_code=400)
        return {}

    @app.post("/v2/bot/richmenu")
    async def create_menu():
        return {"richMenuId": "richmenu-fake-0001"}

    @app.post("/v2/bot/richmenu/{menu_id}/content")
    async def upload_image(menu_id: str, request: Request):
        if request.headers.get("content-type") != "image/png":
            return JSONResponse({"message": "image/png expected"}, status_code=415)
        return {}

    @app.post("/v2/bot/user/all/richmenu/{menu_id}")
    async def set_default(menu_id: str):
        return {}

    return app


class FakeLineServer:
    """`with FakeLineServer(token) as line:` a running fake on loopback."""

    def __init__(self, token: str) -> None:
        self.line = FakeLine(token)
        port = free_port()
        self.line.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_fake(self.line), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> FakeLine:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the fake LINE server did not start")
            time.sleep(0.02)
        return self.line

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def wait_for(condition, seconds: float = 30.0) -> None:
    """Poll until `condition()` is true (events are answered in the background)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.05)
