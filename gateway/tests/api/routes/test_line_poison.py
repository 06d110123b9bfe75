"""LINE poison events are acknowledged and parked, never retried forever; the
user id never reaches a log line; the webhook answers fast with Redis hung.

Against the local fake LINE API (the real SDK client), Rasa down (its
answer is then the center's number: these tests are about the events)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
import threading
import time

import pytest

from app.core.logs import install_redaction, redact
from app.services.line_bot import LineBot
from app.services.line_ledger import Pending
from tests.api.routes.test_line import SECRET, TOKEN, event, post, text_event, user_id
from tests.fake_line import FakeLineServer


@pytest.fixture
def fake_line():
    with FakeLineServer(TOKEN) as line:
        yield line


@pytest.fixture
def line_gateway(gateway, fake_line, key_prefix):
    # Keys of this test's own: the dead letters of other tests stay out.
    prefix = f"{key_prefix}:poison{secrets.token_hex(3)}:"

    def open_line(**overrides):
        return gateway(
            LINE_CHANNEL_SECRET=SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            LINE_API_URL=fake_line.url,
            REDIS_KEY_PREFIX=prefix,
            **overrides,
        )

    return open_line


def bot_of(client) -> LineBot:
    return client.app.state.line


def poison_events() -> list[tuple[str, dict]]:
    """The three kinds the outside probe found retried forever."""
    unknown = event("undefined")  # as in line-bot-sdk's own webhook fixture
    null_text = text_event("x")
    null_text["message"]["text"] = None
    no_user = text_event("私の電話番号は090-1234-5678です")
    del no_user["source"]["userId"]
    return [("unknown_type", unknown), ("unreadable", null_text), ("no_user", no_user)]


@pytest.mark.parametrize(("reason", "poison"), poison_events(), ids=lambda v: str(v)[:12])
async def test_a_poison_event_is_acknowledged_parked_and_never_retried(
    line_gateway, fake_line, reason, poison, caplog
):
    with caplog.at_level(logging.DEBUG):
        async with line_gateway() as client:
            bot = bot_of(client)
            resp = await post(client, [poison])
            assert resp.status_code == 200 and resp.json() == {"accepted": 1}
            await bot.drain()
            assert await bot.ledger.pending() == {}  # nothing left for `recover`
            [letter] = await client.app.state.dead_letters.list()
            # recovery rounds later (as if minutes passed): nothing is taken up again
            bot.clock = lambda: time.time() + 3600
            assert await bot.recover() == 0
            await bot.drain()
            # and a redelivery is not handled again
            assert (await post(client, [poison])).json() == {"accepted": 0}
    assert letter["reason"] == reason and letter["attempts"] == 1
    assert letter["event_id"] == poison["webhookEventId"]
    assert "userId" not in json.dumps(letter) and "U" + "" not in letter.get("user", "")
    assert "090-1234-5678" not in json.dumps(letter, ensure_ascii=False)
    assert fake_line.calls == []  # nothing was sent to anyone
    tries = [r for r in caplog.records if "parked" in r.getMessage()]
    assert len(tries) == 1
    assert "090-1234-5678" not in caplog.text
    for value in (poison["source"].get("userId"), poison["replyToken"]):
        if value:
            assert value not in caplog.text


async def test_a_failing_event_is_parked_after_line_max_attempts(line_gateway, fake_line):
    ev = text_event("知らない番号から電話がありました")
    fake_line.fail_next = 10_000  # LINE answers 500 to everything
    async with line_gateway(LINE_MAX_ATTEMPTS=5) as client:
        bot = bot_of(client)
        await post(client, [ev])
        await bot.drain()  # the task's 3 tries
        [pending] = (await bot.ledger.pending()).values()
        assert pending.attempts == 3
        assert await client.app.state.dead_letters.list() == []
        bot.clock = lambda: time.time() + 3600
        assert await bot.recover() == 1  # tries 4 and 5 by `recover`, then parked
        await bot.drain()
        assert await bot.ledger.pending() == {}
        assert await bot.recover() == 0
        [letter] = await client.app.state.dead_letters.list()
    assert letter["reason"] == "failed" and letter["attempts"] == 5
    assert letter["text"] == "知らない番号から電話がありました"


async def test_dead_letters_are_masked_and_carry_no_user_id(line_gateway):
    ev = text_event("田中太郎です。090-1234-5678に電話ください")
    ev["type"] = "undefined"
    async with line_gateway() as client:
        await post(client, [ev])
        await bot_of(client).drain()
        [letter] = await client.app.state.dead_letters.list()
    dumped = json.dumps(letter, ensure_ascii=False)
    assert ev["source"]["userId"] not in dumped and "田中太郎" not in dumped
    assert "090-1234-5678" not in dumped and "〈電話番号〉" in letter["text"]


async def test_the_dead_letters_keep_without_redis_too(line_gateway):
    async with line_gateway(REDIS_URL=None) as client:
        await post(client, [event("undefined")])
        await bot_of(client).drain()
        assert len(await client.app.state.dead_letters.list()) == 1


# --- logs ------------------------------------------------------------------------


class Collect(logging.Handler):
    """Formats every record it gets, the way a file or console handler would."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


def test_the_log_filter_keeps_line_ids_out_of_every_line_and_traceback():
    install_redaction()
    user, group = user_id(), "C" + secrets.token_hex(16)
    names = ["app.anything", "linebot.v3.webhook", "uvicorn.access", "asyncio", "app.x"]
    collect = Collect()
    loggers = [logging.getLogger(name) for name in names]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.addHandler(collect)
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    try:
        loggers[0].info("event from %s in %s", user, group)
        loggers[1].warning("event " + json.dumps({"userId": user}))
        loggers[2].info('"GET /x?token=secret-token-1 HTTP/1.1" 200')
        try:
            raise ValueError(f"Event failed to lookup discriminator from {{'userId': '{user}'}}")
        except ValueError:
            loggers[3].exception("Task exception was never retrieved")
        loggers[4].warning("電話は090-1234-5678、メールはtaro@example.jp")
    finally:
        for lg, level, disabled in saved:
            lg.removeHandler(collect)
            lg.setLevel(level)
            lg.disabled = disabled
    text = "\n".join(collect.lines)
    assert len(collect.records) == 5
    assert user not in text and group not in text
    assert "secret-token-1" not in text
    assert "090-1234-5678" not in text and "taro@example.jp" not in text
    assert "U****" in text and "Traceback" in text and "ValueError" in text
    assert all(r.exc_info is None for r in collect.records)  # no raw exception to re-format


def test_redact_leaves_ordinary_lines_alone():
    line = "Rasa at http://127.0.0.1:5005 answered 503; trying the next one (attempt 2)"
    assert redact(line) == line


async def test_the_user_id_is_in_no_log_line_when_everything_fails(line_gateway, fake_line, caplog):
    ev = text_event("助けてください")
    fake_line.fail_next = 10_000
    with caplog.at_level(logging.DEBUG):
        async with line_gateway(LINE_MAX_ATTEMPTS=3) as client:
            await post(client, [ev, event("undefined", user=ev["source"]["userId"])])
            await bot_of(client).drain()
    assert "Traceback" in caplog.text  # the failures were logged, with their tracebacks
    assert ev["source"]["userId"] not in caplog.text


# --- Redis hung --------------------------------------------------------------------


class HungRedis:
    """A TCP server that accepts connections and never answers (a hung Redis)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(100)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.stopped = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def hung_redis():
    server = HungRedis()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.close()


async def test_the_webhook_answers_within_a_second_when_redis_hangs(
    line_gateway, fake_line, hung_redis
):
    events = [text_event(f"知らない番号から電話 {i}") for i in range(10)]
    async with line_gateway(REDIS_URL=hung_redis) as client:
        started = time.monotonic()
        resp = await post(client, events)
        elapsed = time.monotonic() - started
        assert resp.status_code == 200 and resp.json() == {"accepted": 10}
        # a redelivery is still recognised (this process's memory)
        assert (await post(client, events[:1])).json() == {"accepted": 0}
        await asyncio.wait_for(bot_of(client).drain(), 120)
    print(f"\nLINE webhook with Redis hung: {elapsed * 1000:.0f} ms for 10 events")
    assert elapsed < 1.0
    assert len(fake_line.answers()) == 10  # and every event was still answered


async def test_the_ledger_gives_up_on_a_hung_redis_within_its_timeout(hung_redis):
    import redis.asyncio as aioredis

    from app.services.line_ledger import EventLedger

    client = aioredis.Redis.from_url(hung_redis, socket_timeout=30, socket_connect_timeout=30)
    ledger = EventLedger(client, "hung:", timeout=0.2)
    try:
        started = time.monotonic()
        claimed = await ledger.claim_all([(f"ev{i}", Pending({}, time.time())) for i in range(20)])
        assert claimed == [True] * 20
        await ledger.save("ev1", Pending({}, time.time()))
        await ledger.done("ev1")
        assert await ledger.lease("ev2", 60)
        assert set(await ledger.pending()) == {f"ev{i}" for i in range(20)} - {"ev1"}
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert elapsed < 5 * 0.2 + 0.5  # each of the five calls gave up after 0.2 s
