"""The state stores (real Redis, memory, the fallback between them) and the
choice of Rasa server per conversation."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from app.services.rasa import route, to_messages
from app.services.store import MemoryStore, RedisStore, ResilientStore, StoreUnavailable
from tests.servers import closed_port


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
    store = RedisStore(redis_url, f"{key_prefix}:unit:", ttl=120, history_max=5, timeout=0.5)
    yield store
    await store.close()


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


async def test_redis_store_counts_in_fixed_windows(redis_store):
    bucket = f"test:{secrets.token_hex(4)}"
    results = [await redis_store.hit(bucket, limit=2, window=60) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert all(1 <= r.retry_after <= 60 for r in results)


async def test_memory_store_forgets_the_oldest_and_the_expired():
    store = MemoryStore(ttl=60, history_max=3, max_conversations=2)
    for cid in ("a", "b", "c"):
        await store.create_conversation(cid)
    assert [await store.conversation_exists(c) for c in ("a", "b", "c")] == [False, True, True]
    await store.append_history("b", [{"role": "user", "text": str(i)} for i in range(5)])
    assert [e["text"] for e in await store.history("b")] == ["2", "3", "4"]
    expired = MemoryStore(ttl=0, history_max=3)
    await expired.create_conversation("x")
    assert not await expired.conversation_exists("x")


async def test_resilient_store_answers_from_memory_when_redis_is_down():
    down = RedisStore(
        f"redis://127.0.0.1:{closed_port()}/0", "x:", ttl=60, history_max=10, timeout=0.2
    )
    store = ResilientStore(down, MemoryStore(ttl=60, history_max=10))
    try:
        assert await store.ping() is False
        # Existence of a conversation Redis cannot check is not invented.
        with pytest.raises(StoreUnavailable):
            await store.conversation_exists("never-seen")
        await store.create_conversation("c")
        assert await store.conversation_exists("c")  # this process made it meanwhile
        await store.append_history("c", [{"role": "user", "text": "hi"}])
        assert await store.history("c") == [{"role": "user", "text": "hi"}]
        assert (await store.hit("b", limit=1, window=60)).allowed
        assert not (await store.hit("b", limit=1, window=60)).allowed
    finally:
        await store.close()
