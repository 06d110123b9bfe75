"""Security headers on every response, and a cap on request bodies.

Plain ASGI middleware (no per-request task or copy of the response), so it
costs next to nothing on the chat path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# No inline script or style anywhere: the page loads /static/chat.js and
# /static/chat.css and talks only to its own origin.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")


async def send_json(send: Send, status: int, body: dict, headers: list | None = None) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class SecurityHeaders:
    """Adds the headers to every response, errors included.

    An exception that escapes the app becomes a 500 with `error_reply()` as
    JSON (no stack trace) and the headers, then goes on up to be logged.
    """

    def __init__(self, app: ASGIApp, error_reply: Callable[[], dict], hsts: bool = False) -> None:
        self.app = app
        self.error_reply = error_reply
        self.headers = list(SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith(("/api/", "/health-check", "/admin"))

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in self.headers if h[0] not in names]
                if api and b"cache-control" not in names:
                    extra.append(NO_STORE)
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await send_json(send_with_headers, 500, self.error_reply())
            raise


def json_too_deep(text: str, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit`.

    Python's json module recurses once per level (a RecursionError, a 500,
    near 1,000 levels), so the depth is measured first, without parsing:
    brackets outside strings. Bodies with fewer opening brackets than the
    limit (every real one) are decided by `str.count` alone.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def is_json(scope: Scope) -> bool:
    ctype = dict(scope.get("headers", [])).get(b"content-type", b"")
    ctype = ctype.split(b";")[0].strip().lower()
    return ctype == b"application/json" or ctype.endswith(b"+json")


class BodyGuard:
    """Checks a request body before any route sees it.

    - over `limit` bytes: 413 (the body is read here, up to the limit, and
      handed on whole, so a chunked body without Content-Length is capped too);
    - a JSON body (by Content-Type) that is not strict UTF-8 — encoded
      surrogates (CESU-8, ``\\xed\\xa0\\x80``) and overlong forms included: 400
      (`json.loads` on bytes would take the surrogates);
    - a JSON body nested deeper than `max_depth`: 422.

    Every refusal is JSON made by `reply(status)` (the chat API's shape).
    """

    def __init__(
        self, app: ASGIApp, limit: int, max_depth: int, reply: Callable[[int, str], dict]
    ) -> None:
        self.app = app
        self.limit = limit
        self.max_depth = max_depth
        self.reply = reply

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send, 413, "The body is too large")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send, 413, "The body is too large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and is_json(scope):
            try:
                text = body.decode("utf-8")  # strict: no surrogates, no overlong forms
            except UnicodeDecodeError:
                await self._refuse(send, 400, "The body is not UTF-8 text")
                return
            if json_too_deep(text, self.max_depth):
                await self._refuse(send, 422, f"JSON nested deeper than {self.max_depth}")
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int, detail: str) -> None:
        await send_json(send, status, self.reply(status, detail))
