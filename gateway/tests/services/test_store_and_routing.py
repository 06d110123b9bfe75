"""The state stores (real Redis, memory, the fallback between them) and the
choice of Rasa server per conversation."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from app.services.rasa import route, to_messages
from app.services.store import (
    Limits,
    MemoryStore,
    RedisStore,
    ResilientStore,
    StoreUnavailable,
)
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


def new_id() -> str:
    return secrets.token_urlsafe(32)


async def test_admit_creates_a_conversation_when_the_cookie_has_none(any_store):
    fresh, client = new_id(), secrets.token_hex(4)
    first = await any_store.admit(client, None, fresh, Limits(10, 10, 60))
    assert (first.conversation, first.existed) == (fresh, None)
    assert first.client.allowed and first.allowance.allowed
    assert await any_store.conversation_exists(fresh)
    # The same cookie next time: the same conversation, not the new id offered.
    again = await any_store.admit(client, fresh, new_id(), Limits(10, 10, 60))
    assert (again.conversation, again.existed) == (fresh, True)
    # A cookie this store never issued (forged, expired) gets the new one.
    other = new_id()
    forged = await any_store.admit(client, new_id(), other, Limits(10, 10, 60))
    assert (forged.conversation, forged.existed) == (other, False)
    assert await any_store.conversation_exists(other)


async def test_admit_counts_the_address_and_the_conversation(any_store):
    client, cid = secrets.token_hex(4), new_id()
    await any_store.admit(client, None, cid, Limits(100, 2, 60))
    second = await any_store.admit(client, cid, new_id(), Limits(100, 2, 60))
    third = await any_store.admit(client, cid, new_id(), Limits(100, 2, 60))
    assert second.allowance.allowed and not third.allowance.allowed
    assert (second.allowance.count, third.allowance.count, third.client.count) == (2, 3, 3)
    assert 1 <= third.allowance.retry_after <= 60
    # Over the address's limit: refused before any conversation is made.
    busy, unused = secrets.token_hex(4), new_id()
    allowed = await any_store.admit(busy, None, new_id(), Limits(1, 100, 60))
    refused = await any_store.admit(busy, None, unused, Limits(1, 100, 60))
    assert allowed.client.allowed and not refused.client.allowed
    assert refused.conversation is None and refused.allowance is None
    assert not await any_store.conversation_exists(unused)


async def test_redis_admit_makes_expiring_keys(redis_store, redis_client, key_prefix):
    cid = new_id()
    await redis_store.admit("127.0.0.1", None, cid, Limits(10, 10, 60))
    keys = redis_client.keys(f"{key_prefix}:unit:*{cid}*")
    assert len(keys) == 2  # the conversation and its counter
    assert all(0 < redis_client.ttl(k) <= 120 for k in keys)


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
        # A cookie Redis cannot check is neither kept nor replaced.
        admission = await store.admit("127.0.0.1", "never-seen", "one-off", Limits(10, 10, 60))
        assert admission.client.allowed and admission.existed is None
        # One this process made meanwhile is known.
        admission = await store.admit("127.0.0.1", "c", "unused", Limits(10, 10, 60))
        assert (admission.conversation, admission.existed) == ("c", True)
    finally:
        await store.close()
