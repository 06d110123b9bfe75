"""The services of a running gateway, built at start-up and closed at the end.

Everything on `app.state`: settings, http (aiohttp session), records (the
database), redis (app.core.redis.Shared: the one client and fallback),
limiter, store, admissions, rasa, review, turns, staff, dead_letters, line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi, Configuration

from app.core.config import Settings
from app.core.limiter import Limiter
from app.core.redis import Shared, open_redis
from app.services.admission import Admissions, Limits
from app.services.dead_letters import DeadLetters
from app.services.line_bot import LineBot
from app.services.line_ledger import EventLedger
from app.services.rasa import RasaClient, client_timeout
from app.services.review import Review
from app.services.staff import StaffSessions
from app.services.store import Store
from app.services.turns import Turns
from staffops.records import database

log = logging.getLogger("app")


def line_bot(
    settings: Settings,
    rasa: RasaClient,
    shared: Shared,
    review: Review,
    turns: Turns,
    dead: DeadLetters,
) -> tuple[AsyncApiClient, LineBot]:
    """The LINE bot over the real SDK client (LINE_API_URL: LINE, or a test's fake)."""
    client = AsyncApiClient(
        Configuration(host=settings.LINE_API_URL, access_token=settings.LINE_CHANNEL_ACCESS_TOKEN)
    )
    ledger = EventLedger(shared, settings.REDIS_KEY_PREFIX, timeout=settings.LINE_REDIS_TIMEOUT)
    bot = LineBot(
        AsyncMessagingApi(client),
        rasa,
        ledger,
        settings.LINE_CHANNEL_SECRET or "",
        forget=rasa.restart,
        concurrency=settings.LINE_CONCURRENCY,
        review=review,
        dead_letters=dead,
        max_attempts=settings.LINE_MAX_ATTEMPTS,
        turns=turns,
    )
    return client, bot


async def every(seconds: float, what: str, job: Callable[[], Awaitable[object]]) -> None:
    """`job()` at start-up and then every `seconds`, for ever."""
    while True:
        try:
            await job()
        except Exception:  # keep going; the next round may succeed
            log.exception("%s failed", what)
        await asyncio.sleep(seconds)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    state = app.state
    timeout = client_timeout(settings.RASA_TIMEOUT, settings.RASA_CONNECT_TIMEOUT)
    # Idle connections are dropped after 15 s, well before Rasa's keep-alive
    # of 120 s closes them from its side.
    state.http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=15), timeout=timeout
    )
    # The records' engine, its schema migrated to the head revision.
    state.records = await asyncio.to_thread(database.connect, settings.records_url)
    state.redis = shared = Shared(
        open_redis(settings.REDIS_URL, settings.REDIS_TIMEOUT),
        settings.REDIS_KEY_PREFIX,
        settings.REDIS_TIMEOUT,
    )
    state.limiter = Limiter(shared)
    state.store = Store(shared, settings.CONVERSATION_TTL, settings.HISTORY_MAX)
    state.admissions = Admissions(
        state.store,
        state.limiter,
        Limits(
            settings.RATE_LIMIT_PER_CLIENT,
            settings.RATE_LIMIT_PER_CONVERSATION,
            settings.RATE_LIMIT_WINDOW,
        ),
    )
    state.rasa = RasaClient(settings.rasa_urls, state.http, timeout, token=settings.rasa_token)
    state.review = Review(settings, shared, state.records)
    state.turns = Turns(
        state.review,
        shared,
        abandoned_after=settings.ABANDONED_AFTER,
        remember_for=settings.FEEDBACK_CONTEXT_TTL,
    )
    state.staff = StaffSessions(settings, shared)
    state.dead_letters = DeadLetters(state.records, ttl_days=settings.DEAD_LETTER_TTL_DAYS)
    state.line = None
    tasks = [
        asyncio.create_task(
            every(settings.ABANDONED_SWEEP_EVERY, "sweeping abandoned answers", state.turns.sweep)
        )
    ]
    line_client = None
    if settings.line_configured:
        line_client, state.line = line_bot(
            settings, state.rasa, shared, state.review, state.turns, state.dead_letters
        )
        # Events a task (of this process or of one that died) left pending.
        tasks.append(
            asyncio.create_task(
                every(settings.LINE_RECOVER_EVERY, "recovering LINE events", state.line.recover)
            )
        )
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        if line_client is not None:
            await state.line.drain()
            await line_client.close()
        await state.http.close()
        await state.admissions.settled()
        await state.limiter.close()
        await shared.close()
        await asyncio.to_thread(database.forget, settings.records_url)
