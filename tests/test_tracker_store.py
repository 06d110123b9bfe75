"""The bounded tracker stores: flat cost in long conversations, nothing kept
longer than needed, nothing lost on a restart.

Against the machine's real Redis (a db of the tests' own, random key prefix)
and a real SQLite file, through the same endpoint files Rasa reads.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path

import pytest
import redis
import yaml
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config
from stores.tracker_store import (
    ROLL_OVER_AT,
    BoundedRedisTrackerStore,
    BoundedSQLTrackerStore,
)

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = Domain.load(str(ROOT / "chatbot" / "domain.yml"))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture
def redis_store():
    prefix = "tstore" + secrets.token_hex(4)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} does not answer ({exc}): the tests need it")
    db = int(REDIS_URL.rsplit("/", 1)[1])
    store = BoundedRedisTrackerStore(
        domain=DOMAIN, host="127.0.0.1", port=6379, db=db, key_prefix=prefix, record_exp=120
    )
    yield store
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def sql_store(tmp_path):
    return BoundedSQLTrackerStore(domain=DOMAIN, db=str(tmp_path / "tracker.sqlite"))


def turn(tracker, n: int) -> None:
    """One message and its answer, as Rasa records them."""
    tracker.update(UserUttered(f"メッセージ{n}", {"name": "faq", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_answer"))
    tracker.update(SlotSet("topic", f"topic{n}"))
    tracker.update(SlotSet("misunderstood", 0.0))
    tracker.update(ActionExecuted("action_listen"))


async def talk(store, sender: str, turns: int) -> list[int]:
    """Play `turns` turns through the store; the number of events read back each time."""
    sizes = []
    tracker = await store.get_or_create_tracker(sender)
    if not tracker.events or not any(isinstance(e, SessionStarted) for e in tracker.events):
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
    for n in range(turns):
        tracker = await store.retrieve(sender)
        turn(tracker, n)
        await store.save(tracker)
        sizes.append(len((await store.retrieve(sender)).events))
    return sizes


@pytest.mark.parametrize("kind", ["redis", "sql"])
def test_a_long_conversation_stays_bounded_and_keeps_its_context(kind, request):
    store = request.getfixturevalue(f"{kind}_store")
    sender = "long-" + secrets.token_hex(4)
    sizes = asyncio.run(talk(store, sender, 300))
    assert max(sizes) <= ROLL_OVER_AT + 10
    tracker = asyncio.run(store.retrieve(sender))
    assert tracker.get_slot("topic") == "topic299"
    assert tracker.latest_message.text == "メッセージ299"
    assert tracker.latest_action_name == "action_listen"


@pytest.mark.parametrize("kind", ["redis", "sql"])
def test_a_form_in_progress_survives_the_roll_over(kind, request):
    store = request.getfixturevalue(f"{kind}_store")
    sender = "form-" + secrets.token_hex(4)
    asyncio.run(talk(store, sender, 5))
    tracker = asyncio.run(store.retrieve(sender))
    tracker.update(ActiveLoop("eligibility_form"))
    tracker.update(SlotSet("docomo_line", True))
    asyncio.run(store.save(tracker))
    asyncio.run(talk(store, sender, 40))
    tracker = asyncio.run(store.retrieve(sender))
    assert tracker.active_loop_name == "eligibility_form"
    assert tracker.get_slot("docomo_line") is True


@pytest.mark.parametrize("kind", ["redis", "sql"])
def test_earlier_sessions_are_dropped(kind, request):
    store = request.getfixturevalue(f"{kind}_store")
    sender = "sessions-" + secrets.token_hex(4)
    asyncio.run(talk(store, sender, 3))
    tracker = asyncio.run(store.retrieve(sender))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, 99)
    asyncio.run(store.save(tracker))
    full = asyncio.run(store.retrieve_full_tracker(sender))
    texts = [e.text for e in full.events if isinstance(e, UserUttered)]
    assert texts == ["メッセージ99"]


def test_redis_conversations_expire(redis_store):
    sender = "ttl-" + secrets.token_hex(4)
    asyncio.run(talk(redis_store, sender, 1))
    ttl = redis_store.red.ttl(redis_store.key_prefix + sender)
    assert 0 < ttl <= 120


def test_sql_keeps_conversations_across_a_restart_and_prunes_silent_ones(tmp_path):
    path = str(tmp_path / "tracker.sqlite")
    first = BoundedSQLTrackerStore(domain=DOMAIN, db=path, record_exp=60)
    asyncio.run(talk(first, "kept", 2))
    asyncio.run(talk(first, "silent", 2))
    with first.session_scope() as session:
        session.query(first.SQLEvent).filter(first.SQLEvent.sender_id == "silent").update(
            {first.SQLEvent.timestamp: time.time() - 3600}
        )
        session.commit()
    restarted = BoundedSQLTrackerStore(domain=DOMAIN, db=path, record_exp=60)
    asyncio.run(talk(restarted, "kept", 1))  # a save prunes
    assert asyncio.run(restarted.retrieve("kept")).get_slot("topic") == "topic0"
    assert asyncio.run(restarted.retrieve("silent")) is None


@pytest.mark.parametrize(
    "endpoints, expected",
    [("endpoints.yml", BoundedSQLTrackerStore), ("endpoints.redis.yml", BoundedRedisTrackerStore)],
)
def test_the_endpoint_files_load_these_stores(endpoints, expected, monkeypatch, tmp_path):
    """Rasa falls back to memory, with only a warning, when a store class
    cannot be imported: this proves the endpoint files name real classes."""
    monkeypatch.chdir(ROOT / "chatbot")  # where `rasa run` reads them
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "t.sqlite"))
    for name, value in {
        "RASA_REDIS_HOST": "127.0.0.1",
        "RASA_REDIS_PORT": "6379",
        "RASA_REDIS_DB": REDIS_URL.rsplit("/", 1)[1],
        "RASA_REDIS_PASSWORD": "",
        "RASA_REDIS_KEY_PREFIX": "tstore" + secrets.token_hex(4),
    }.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "chatbot" / endpoints), "tracker_store")
    assert isinstance(config, EndpointConfig)
    store = TrackerStore.create(config, DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, expected)
    spec = yaml.safe_load((ROOT / "chatbot" / endpoints).read_text(encoding="utf-8"))
    assert spec["tracker_store"]["record_exp"] == 604800
