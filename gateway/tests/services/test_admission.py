"""Admissions: the rate limits and the conversation of each chat message, with
repeat messages counted while they go on (app/services/admission.py).

Run on Redis (the tests' own db and prefix) and on this process's memory.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from app.core.limiter import Allowance, Limiter
from app.core.redis import Shared
from app.services.admission import Admissions, Conversation, Limits, RateLimited
from app.services.store import Store
from tests.services.conftest import redis_down, shared_redis


class Gated:
    """A real limiter whose counts wait until the test opens the gate: shows
    which admissions a message waits for."""

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self.gate = asyncio.Event()
        self.calls = 0

    async def hit(self, *args) -> Allowance:
        self.calls += 1
        await self.gate.wait()
        return await self.limiter.hit(*args)


async def admitted_after_the_store(gated: Gated, admitting) -> Conversation:
    """Checks that `admitting` waits for the (gated) counts, then lets it go."""
    waiting = asyncio.create_task(admitting)
    await asyncio.sleep(0.05)
    assert not waiting.done()
    gated.gate.set()
    return await waiting


def address() -> str:
    return f"192.0.2.{secrets.randbelow(250)}-{secrets.token_hex(3)}"


async def conversation_count(limiter: Limiter, cid: str, limits: Limits) -> int:
    """The shared count of a conversation in this window (one more message)."""
    allowance = await limiter.hit(f"conversation:{cid}", limits.conversation, limits.window)
    return allowance.count - 1


async def test_a_new_browser_waits_for_the_store_and_gets_a_new_conversation(
    any_store, any_limiter
):
    admissions = Admissions(any_store, any_limiter, Limits(100, 100, 60))
    first = await admissions.admit(address(), None)
    assert first.persistent and len(first.id) == 43
    assert await any_store.conversation_exists(first.id)
    # A cookie this store never issued is not taken: a new id instead.
    forged = "f" * 43
    other = await admissions.admit(address(), forged)
    assert other.id != forged and await any_store.conversation_exists(other.id)
    assert not await any_store.conversation_exists(forged)


async def test_a_repeat_message_goes_on_while_it_is_counted(any_store, any_limiter):
    limits = Limits(100, 100, 60)
    gated = Gated(any_limiter)
    admissions = Admissions(any_store, gated, limits)  # type: ignore[arg-type]
    client = address()
    gated.gate.set()
    cid = (await admissions.admit(client, None)).id
    gated.gate.clear()
    # The counts do not answer yet, and the message is admitted all the same.
    again = await asyncio.wait_for(admissions.admit(client, cid), timeout=1)
    assert again == Conversation(cid)
    gated.gate.set()
    await admissions.settled()
    # ... and it was counted.
    assert await conversation_count(any_limiter, cid, limits) == 2


async def test_a_cookie_this_process_has_not_admitted_waits(any_store, any_limiter):
    limits = Limits(100, 100, 60)
    cid = (await Admissions(any_store, any_limiter, limits).admit(address(), None)).id
    gated = Gated(any_limiter)
    other_process = Admissions(any_store, gated, limits)  # type: ignore[arg-type]
    waited = await admitted_after_the_store(gated, other_process.admit(address(), cid))
    assert waited == Conversation(cid)


async def test_one_process_keeps_the_limits_exactly(any_store, any_limiter):
    limits = Limits(100, 3, 60)
    admissions = Admissions(any_store, any_limiter, limits)
    client = address()
    cid = (await admissions.admit(client, None)).id
    for _ in range(2):
        assert (await admissions.admit(client, cid)).id == cid
        await admissions.settled()
    with pytest.raises(RateLimited) as refused:
        await admissions.admit(client, cid)
    assert 1 <= refused.value.retry_after <= 60


async def test_the_address_limit_counts_every_conversation(any_store, any_limiter):
    admissions = Admissions(any_store, any_limiter, Limits(4, 100, 60))
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


async def test_two_processes_share_the_counts_through_redis(redis_url, key_prefix):
    shared = [shared_redis(redis_url, f"{key_prefix}:shared:") for _ in range(2)]
    limits = Limits(100, 4, 60)
    a, b = (Admissions(Store(s, 600, 5), Limiter(s), limits) for s in shared)
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
        for s in shared:
            await s.close()


async def test_a_message_that_went_ahead_over_a_limit_makes_the_next_one_wait(
    any_store, any_limiter
):
    limits = Limits(100, 5, 60)
    admissions = Admissions(any_store, any_limiter, limits)
    client = address()
    cid = (await admissions.admit(client, None)).id
    await admissions.settled()
    # Another process used up the conversation's allowance meanwhile.
    for _ in range(4):
        await any_limiter.hit(f"conversation:{cid}", limits.conversation, limits.window)
    assert (await admissions.admit(client, cid)).id == cid  # known, count 1: ahead
    await admissions.settled()  # the store said 6: learnt
    with pytest.raises(RateLimited):
        await admissions.admit(client, cid)


async def test_a_known_conversation_is_checked_again_after_known_for(any_store, any_limiter):
    now = [1_000_000.0]
    limits = Limits(100, 100, 60)
    gated = Gated(any_limiter)
    gated.gate.set()
    admissions = Admissions(
        any_store,
        gated,
        limits,
        known_for=30,
        clock=lambda: now[0],  # type: ignore[arg-type]
    )
    client = address()
    cid = (await admissions.admit(client, None)).id
    gated.gate.clear()
    assert (await asyncio.wait_for(admissions.admit(client, cid), 1)).id == cid
    now[0] += 31
    assert (await admitted_after_the_store(gated, admissions.admit(client, cid))).id == cid
    await admissions.settled()


async def test_a_store_that_loses_a_known_conversation_gets_it_back(
    redis_url, key_prefix, redis_client
):
    prefix = f"{key_prefix}:lost:"
    shared = shared_redis(redis_url, prefix)
    store = Store(shared, ttl=600, history_max=5)
    admissions = Admissions(store, Limiter(shared), Limits(100, 100, 60))
    client = address()
    try:
        cid = (await admissions.admit(client, None)).id
        redis_client.delete(f"{prefix}conv:{cid}")  # as after a Redis restart
        assert (await admissions.admit(client, cid)).id == cid
        await admissions.settled()
        assert await store.conversation_exists(cid)
    finally:
        await shared.close()


async def test_what_this_process_remembers_is_bounded():
    shared = Shared(None, "m:", 0.5)
    gated = Gated(Limiter(shared))
    gated.gate.set()
    admissions = Admissions(Store(shared, 600, 5), gated, Limits(10_000, 100, 60), remember=3)  # type: ignore[arg-type]
    client = address()
    ids = [(await admissions.admit(client, None)).id for _ in range(5)]
    gated.gate.clear()
    # The newest goes ahead; the oldest, forgotten, waits for the store.
    assert (await asyncio.wait_for(admissions.admit(client, ids[-1]), 1)).id == ids[-1]
    waited = await admitted_after_the_store(gated, admissions.admit(client, ids[0]))
    assert waited.id == ids[0]
    await admissions.settled()


async def test_with_redis_down_an_unknown_cookie_is_neither_kept_nor_replaced():
    down = redis_down()
    admissions = Admissions(Store(down, 60, 5), Limiter(down), Limits(100, 100, 60))
    try:
        cookie = "c" * 43
        one_off = await admissions.admit(address(), cookie)
        assert not one_off.persistent and one_off.id != cookie
        # A new browser still gets a conversation (in this process's memory).
        assert (await admissions.admit(address(), None)).persistent
    finally:
        await down.close()
