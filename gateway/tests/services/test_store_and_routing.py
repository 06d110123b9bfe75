"""The state stores (real Redis, memory, the fallback between them) and the
choice of Rasa server per conversation."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from app.core.limiter import Limiter
from app.core.redis import Shared
from app.services.rasa import route, to_messages
from app.services.store import Store, StoreUnavailable
from tests.services.conftest import redis_down, shared_redis


def test_a_conversation_always_takes_the_same_way():
    urls = ["http://a", "http://b", "http://c"]
    cid = secrets.token_urlsafe(32)
    assert route(urls, cid) == route(list(urls), cid)
    assert sorted(route(urls, cid)) == urls  # every server, the next ones as fallbacks


def test_conversations_spread_over_the_servers():
    urls = ["http://a", "http://b", "http://c"]
    firsts = Counter(route(urls, secrets.token_urlsafe(32))[0] for _ in range(3000))
    assert set(firsts) == set(urls)
    assert all(800 < n < 1200 for n in firsts.values()), firsts


def test_rasa_answers_keep_text_and_buttons_only():
    payload = [
        {"recipient_id": "x", "text": "はい", "buttons": [{"title": "電話", "payload": "tel:1"}]},
        {"recipient_id": "x", "image": "https://example.invalid/a.png"},
        {"recipient_id": "x", "text": "", "buttons": [{"payload": "/no_title"}]},
        "not a message",
    ]
    messages = to_messages(payload)
    assert [m.model_dump() for m in messages] == [
        {"text": "はい", "buttons": [{"title": "電話", "payload": "tel:1"}]}
    ]


@pytest.fixture
async def redis_store(redis_url, key_prefix):
    shared = shared_redis(redis_url, f"{key_prefix}:unit:")
    yield Store(shared, ttl=120, history_max=5)
    await shared.close()


async def test_redis_store_keeps_a_bounded_expiring_history(redis_store, redis_client, key_prefix):
    cid = secrets.token_urlsafe(32)
    assert not await redis_store.conversation_exists(cid)
    await redis_store.create_conversation(cid)
    assert await redis_store.conversation_exists(cid)
    for i in range(4):
        await redis_store.append_history(
            cid, [{"role": "user", "text": f"q{i}"}, {"role": "bot", "text": f"a{i}"}]
        )
    history = await redis_store.history(cid)
    assert [e["text"] for e in history] == ["a1", "q2", "a2", "q3", "a3"]  # the last 5
    for kind in ("conv", "hist"):
        assert 0 < redis_client.ttl(f"{key_prefix}:unit:{kind}:{cid}") <= 120


async def test_the_limiter_counts_in_fixed_windows(any_limiter):
    bucket = f"test:{secrets.token_hex(4)}"
    results = [await any_limiter.hit(bucket, limit=2, window=60) for _ in range(3)]
    assert [(r.allowed, r.count) for r in results] == [(True, 1), (True, 2), (False, 3)]
    assert 1 <= results[-1].retry_after <= 60


async def test_the_limiter_keeps_its_counters_in_redis_expiring(
    redis_url, key_prefix, redis_client
):
    prefix = f"{key_prefix}:lim:"
    shared = shared_redis(redis_url, prefix)
    try:
        await Limiter(shared).hit("client:192.0.2.1", limit=5, window=60)
        keys = redis_client.keys(f"{prefix}*")
        assert len(keys) == 1 and "client:192.0.2.1" in keys[0]
        assert 0 < redis_client.ttl(keys[0]) <= 60
    finally:
        await shared.close()


async def test_the_limiter_counts_in_memory_while_redis_is_down():
    down = redis_down()
    try:
        limiter = Limiter(down)
        results = [await limiter.hit("b", limit=1, window=60) for _ in range(2)]
        assert [r.allowed for r in results] == [True, False]
        assert 1 <= results[1].retry_after <= 60
    finally:
        await down.close()


async def test_memory_store_forgets_the_oldest_and_the_expired():
    store = Store(Shared(None, "m:", 0.5), ttl=60, history_max=3, max_conversations=2)
    for cid in ("a", "b", "c"):
        await store.create_conversation(cid)
    assert [await store.conversation_exists(c) for c in ("a", "b", "c")] == [False, True, True]
    await store.append_history("b", [{"role": "user", "text": str(i)} for i in range(5)])
    assert [e["text"] for e in await store.history("b")] == ["2", "3", "4"]
    expired = Store(Shared(None, "m:", 0.5), ttl=0, history_max=3)
    await expired.create_conversation("x")
    assert not await expired.conversation_exists("x")


async def test_the_store_answers_from_memory_when_redis_is_down():
    down = redis_down()
    store = Store(down, ttl=60, history_max=10)
    try:
        assert await store.ping() is False
        # Existence of a conversation Redis cannot check is not invented.
        with pytest.raises(StoreUnavailable):
            await store.conversation_exists("never-seen")
        await store.create_conversation("c")
        assert await store.conversation_exists("c")  # this process made it meanwhile
        await store.append_history("c", [{"role": "user", "text": "hi"}])
        assert await store.history("c") == [{"role": "user", "text": "hi"}]
        # Sign-in reservations: this process's memory still limits them.
        taken = [await store.reserve(["login:x"], 2, 60) for _ in range(3)]
        assert [r.allowance.allowed for r in taken] == [True, True, False]
    finally:
        await down.close()
