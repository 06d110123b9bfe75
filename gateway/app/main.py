"""The web gateway: a chat page and a JSON API in front of Rasa.

Run: `uvicorn app.main:app` from gateway/ (see `make gateway`, `make run`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi, Configuration
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api.main import api_router
from app.api.routes import chat
from app.api.routes.admin import StaffRequired
from app.api.routes.pages import STATIC
from app.core.config import Settings, get_settings
from app.core.logs import install_redaction
from app.core.security import BodyGuard, SecurityHeaders
from app.models import ChatReply
from app.services import replies
from app.services.admission import Admissions, RateLimited
from app.services.dead_letters import DeadLetters
from app.services.line_bot import LineBot
from app.services.line_ledger import EventLedger
from app.services.rasa import RasaClient, client_timeout
from app.services.review import Review
from app.services.staff import StaffSessions
from app.services.store import Limits, MemoryStore, RedisStore, ResilientStore
from staffops.records import database

log = logging.getLogger("app")


def _body(reply: ChatReply, **extra: object) -> dict:
    return {**reply.model_dump(), **extra}


def line_bot(
    settings: Settings,
    rasa: RasaClient,
    redis_store: RedisStore | None,
    review: Review | None,
    dead_letters: DeadLetters,
) -> tuple[AsyncApiClient, LineBot]:
    """The LINE bot over the real SDK client (LINE_API_URL: LINE, or a test's fake)."""
    client = AsyncApiClient(
        Configuration(host=settings.LINE_API_URL, access_token=settings.LINE_CHANNEL_ACCESS_TOKEN)
    )
    ledger = EventLedger(
        redis_store.redis if redis_store else None,
        settings.REDIS_KEY_PREFIX,
        timeout=settings.LINE_REDIS_TIMEOUT,
    )
    bot = LineBot(
        AsyncMessagingApi(client),
        rasa,
        ledger,
        settings.LINE_CHANNEL_SECRET or "",
        forget=rasa.restart,
        concurrency=settings.LINE_CONCURRENCY,
        review=review,
        dead_letters=dead_letters,
        max_attempts=settings.LINE_MAX_ATTEMPTS,
    )
    return client, bot


async def recover_line_events(bot: LineBot, settings: Settings) -> None:
    """At start-up and then every LINE_RECOVER_EVERY seconds, answer by push the
    events that a task (of this process or of one that died) left pending."""
    while True:
        try:
            await bot.recover()
        except Exception:  # keep looking; the next round may succeed
            log.exception("recovering pending LINE events failed")
        await asyncio.sleep(settings.LINE_RECOVER_EVERY)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # LINE user ids, Rasa tokens and personal data out of every log line.
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Idle connections are dropped after 15 s, well before Rasa's
        # keep-alive of 120 s closes them from its side.
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=15),
            timeout=client_timeout(settings.RASA_TIMEOUT, settings.RASA_CONNECT_TIMEOUT),
        )
        redis_store = (
            RedisStore(
                settings.REDIS_URL,
                settings.REDIS_KEY_PREFIX,
                settings.CONVERSATION_TTL,
                settings.HISTORY_MAX,
                settings.REDIS_TIMEOUT,
            )
            if settings.REDIS_URL
            else None
        )
        app.state.http = http
        # The records' engine, its schema migrated to the head revision.
        app.state.records = await asyncio.to_thread(database.connect, settings.records_url)
        app.state.store = ResilientStore(
            redis_store, MemoryStore(settings.CONVERSATION_TTL, settings.HISTORY_MAX)
        )
        app.state.admissions = Admissions(
            app.state.store,
            Limits(
                settings.RATE_LIMIT_PER_CLIENT,
                settings.RATE_LIMIT_PER_CONVERSATION,
                settings.RATE_LIMIT_WINDOW,
            ),
        )
        app.state.rasa = RasaClient(
            settings.rasa_urls,
            http,
            client_timeout(settings.RASA_TIMEOUT, settings.RASA_CONNECT_TIMEOUT),
            token=settings.rasa_token,
        )
        app.state.review = Review(
            settings, redis_store.redis if redis_store else None, app.state.records
        )
        app.state.staff = StaffSessions(settings, redis_store.redis if redis_store else None)
        app.state.dead_letters = DeadLetters(
            app.state.records, ttl_days=settings.DEAD_LETTER_TTL_DAYS
        )
        app.state.line = None
        line_client = recovering = None
        if settings.line_configured:
            line_client, app.state.line = line_bot(
                settings, app.state.rasa, redis_store, app.state.review, app.state.dead_letters
            )
            recovering = asyncio.create_task(recover_line_events(app.state.line, settings))
        try:
            yield
        finally:
            if recovering is not None:
                recovering.cancel()
                await app.state.line.drain()
                await line_client.close()
            await http.close()
            await app.state.admissions.settled()
            await app.state.store.close()
            await asyncio.to_thread(database.forget, settings.records_url)

    app = FastAPI(
        title="でんわ・ネットトラブル相談アシスタント gateway",
        summary="Web chat and JSON API in front of the Rasa assistant",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        # The interactive docs pages load scripts from a CDN, which the CSP
        # forbids: the schema is at /api/openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.include_router(api_router)
    openapi = app.openapi

    def openapi_with_chat_request() -> dict:
        fresh = app.openapi_schema is None
        schema = openapi()
        if fresh:
            chat.describe_request_body(schema)
        return schema

    app.openapi = openapi_with_chat_request
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: the input itself may be bytes that are not text.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        reply = ChatReply(messages=replies.unreadable(), status="refused")
        return JSONResponse(_body(reply, detail=detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = replies.not_found() if exc.status_code == 404 else replies.unreadable()
        reply = ChatReply(messages=messages, status="refused")
        return JSONResponse(
            _body(reply, detail=exc.detail), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        reply = ChatReply(messages=replies.rate_limited(exc.retry_after), status="rate_limited")
        return JSONResponse(
            _body(reply), status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(StaffRequired)
    async def staff_required(request: Request, exc: StaffRequired) -> Response:
        if exc.json:
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        return RedirectResponse("/admin/login", status_code=303)

    def unavailable_body() -> dict:
        return _body(ChatReply(messages=replies.unavailable(), status="unavailable"))

    def refused_body(status: int, detail: str) -> dict:
        messages = replies.body_too_large() if status == 413 else replies.unreadable()
        return _body(ChatReply(messages=messages, status="refused"), detail=detail)

    # The last added runs first: the proxy's client address, the headers on
    # everything (the 400s and 413 included), the Host check, the body checks.
    app.add_middleware(
        BodyGuard,
        limit=settings.MAX_BODY_BYTES,
        max_depth=settings.MAX_JSON_DEPTH,
        reply=refused_body,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.ALLOWED_HOSTS)
    app.add_middleware(SecurityHeaders, error_reply=unavailable_body, hsts=settings.COOKIE_SECURE)
    if settings.TRUSTED_PROXIES:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.TRUSTED_PROXIES)
    return app


app = create_app()
