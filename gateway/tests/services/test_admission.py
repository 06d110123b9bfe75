"""Admissions: the rate limits and the conversation of each chat message, with
repeat messages counted while they go on (app/services/admission.py).

Run on Redis (the tests' own db and prefix) and on this process's memory.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from app.services.admission import Admissions, Conversation, RateLimited
from app.services.store import Admission, Limits, MemoryStore, RedisStore, ResilientStore
from tests.servers import closed_port


class Gated:
    """A real store whose `admit` waits until the test opens the gate: shows
    which admissions a message waits for."""

    def __init__(self, store) -> None:
        self.store = store
        self.gate = asyncio.Event()
        self.calls = 0

    async def admit(self, *args) -> Admission:
        self.calls += 1
        await self.gate.wait()
        return await self.store.admit(*args)


async def admitted_after_the_store(gated: Gated, admitting) -> Conversation:
    """Checks that `admitting` waits for the (gated) store, then lets it go."""
    waiting = asyncio.create_task(admitting)
    await asyncio.sleep(0.05)
    assert not waiting.done()
    gated.gate.set()
    return await waiting


def address() -> str:
    return f"192.0.2.{secrets.randbelow(250)}-{secrets.token_hex(3)}"


async def conversation_count(store, cid: str, limits: Limits) -> int:
    """The store's count of a conversation in this window (one more message)."""
    admission = await store.admit(address(), cid, cid, limits)
    return admission.allowance.count - 1


async def test_a_new_browser_waits_for_the_store_and_gets_a_new_conversation(any_store):
    admissions = Admissions(any_store, Limits(100, 100, 60))
    first = await admissions.admit(address(), None)
    assert first.persistent and len(first.id) == 43
    assert await any_store.conversation_exists(first.id)
    # A cookie this store never issued is not taken: a new id instead.
    forged = "f" * 43
    other = await admissions.admit(address(), forged)
    assert other.id != forged and await any_store.conversation_exists(other.id)
    assert not await any_store.conversation_exists(forged)


async def test_a_repeat_message_goes_on_while_it_is_counted(any_store):
    limits = Limits(100, 100, 60)
    gated = Gated(any_store)
    admissions = Admissions(gated, limits)
    client = address()
    gated.gate.set()
    cid = (await admissions.admit(client, None)).id
    gated.gate.clear()
    # The store does not answer yet, and the message is admitted all the same.
    again = await asyncio.wait_for(admissions.admit(client, cid), timeout=1)
    assert again == Conversation(cid)
    assert gated.calls == 2
    gated.gate.set()
    await admissions.settled()
    # ... and it was counted.
    assert await conversation_count(any_store, cid, limits) == 2


async def test_a_cookie_this_process_has_not_admitted_waits(any_store):
    limits = Limits(100, 100, 60)
    cid = (await Admissions(any_store, limits).admit(address(), None)).id
    gated = Gated(any_store)
    other_process = Admissions(gated, limits)
    waited = await admitted_after_the_store(gated, other_process.admit(address(), cid))
    assert waited == Conversation(cid)


async def test_one_process_keeps_the_limits_exactly(any_store):
    limits = Limits(100, 3, 60)
    admissions = Admissions(any_store, limits)
    client = address()
    cid = (await admissions.admit(client, None)).id
    for _ in range(2):
        assert (await admissions.admit(client, cid)).id == cid
        await admissions.settled()
    with pytest.raises(RateLimited) as refused:
        await admissions.admit(client, cid)
    assert 1 <= refused.value.retry_after <= 60


async def test_the_address_limit_counts_every_conversation(any_store):
    admissions = Admissions(any_store, Limits(4, 100, 60))
    client = address()
    one = (await admissions.admit(client, None)).id
    two = (await admissions.admit(client, None)).id
    for cid in (one, two):
        await admissions.admit(client, cid)
        await admissions.settled()
    with pytest.raises(RateLimited):
        await admissions.admit(client, one)
    # Another address is not concerned.
    assert (await admissions.admit(address(), None)).persistent


async def test_two_processes_share_the_counts_through_the_store(redis_url, key_prefix):
    stores = [
        RedisStore(redis_url, f"{key_prefix}:shared:", ttl=600, history_max=5, timeout=0.5)
        for _ in range(2)
    ]
    limits = Limits(100, 4, 60)
    a, b = (Admissions(s, limits) for s in stores)
    client = address()
    try:
        cid = (await a.admit(client, None)).id  # counted: 1
        await b.admit(client, cid)  # b checks the cookie with the store: 2
        await a.admit(client, cid)  # a knows 1, goes ahead: 3
        await a.settled()
        await b.admit(client, cid)  # b knows 2, goes ahead: 4
        await b.settled()
        # a learnt 3 with its last count, so the next message could reach the
        # limit: it waits for the store, which says 5, over 4.
        with pytest.raises(RateLimited):
            await a.admit(client, cid)
    finally:
        for s in stores:
            await s.close()


async def test_a_message_that_went_ahead_over_a_limit_makes_the_next_one_wait(any_store):
    limits = Limits(100, 5, 60)
    admissions = Admissions(any_store, limits)
    client = address()
    cid = (await admissions.admit(client, None)).id
    # Another process used up the conversation's allowance meanwhile.
    for _ in range(4):
        await any_store.admit(address(), cid, cid, limits)
    assert (await admissions.admit(client, cid)).id == cid  # known, count 1: ahead
    await admissions.settled()  # the store said 6: learnt
    with pytest.raises(RateLimited):
        await admissions.admit(client, cid)


async def test_a_known_conversation_is_checked_again_after_known_for(any_store):
    now = [1_000_000.0]
    limits = Limits(100, 100, 60)
    admissions = Admissions(any_store, limits, known_for=600, clock=lambda: now[0])
    client = address()
    cid = (await admissions.admit(client, None)).id
    gated = Gated(any_store)
    admissions.store = gated
    assert (await asyncio.wait_for(admissions.admit(client, cid), 1)).id == cid
    now[0] += 601
    assert (await admitted_after_the_store(gated, admissions.admit(client, cid))).id == cid
    await admissions.settled()


async def test_a_store_that_loses_a_known_conversation_gets_it_back(
    redis_url, key_prefix, redis_client
):
    prefix = f"{key_prefix}:lost:"
    store = RedisStore(redis_url, prefix, ttl=600, history_max=5, timeout=0.5)
    admissions = Admissions(store, Limits(100, 100, 60))
    client = address()
    try:
        cid = (await admissions.admit(client, None)).id
        redis_client.delete(f"{prefix}conv:{cid}")  # as after a Redis restart
        assert (await admissions.admit(client, cid)).id == cid
        await admissions.settled()
        assert await store.conversation_exists(cid)
    finally:
        await store.close()


async def test_what_this_process_remembers_is_bounded():
    memory = MemoryStore(ttl=600, history_max=5)
    admissions = Admissions(memory, Limits(10_000, 100, 60), remember=3)
    client = address()
    ids = [(await admissions.admit(client, None)).id for _ in range(5)]
    gated = Gated(memory)
    admissions.store = gated
    # The newest goes ahead; the oldest, forgotten, waits for the store.
    assert (await asyncio.wait_for(admissions.admit(client, ids[-1]), 1)).id == ids[-1]
    waited = await admitted_after_the_store(gated, admissions.admit(client, ids[0]))
    assert waited.id == ids[0]
    await admissions.settled()


async def test_with_redis_down_an_unknown_cookie_is_neither_kept_nor_replaced():
    down = RedisStore(
        f"redis://127.0.0.1:{closed_port()}/0", "x:", ttl=60, history_max=5, timeout=0.2
    )
    admissions = Admissions(ResilientStore(down, MemoryStore(60, 5)), Limits(100, 100, 60))
    try:
        cookie = "c" * 43
        one_off = await admissions.admit(address(), cookie)
        assert not one_off.persistent and one_off.id != cookie
        # A new browser still gets a conversation (in this process's memory).
        assert (await admissions.admit(address(), None)).persistent
    finally:
        await down.close()
