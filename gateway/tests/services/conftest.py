"""A state store of each kind, for the tests that hold for both."""

from __future__ import annotations

import pytest

from app.services.store import MemoryStore, RedisStore


@pytest.fixture(params=["redis", "memory"])
async def any_store(request, redis_url, key_prefix):
    if request.param == "memory":
        yield MemoryStore(ttl=600, history_max=5)
        return
    store = RedisStore(redis_url, f"{key_prefix}:any:", ttl=600, history_max=5, timeout=0.5)
    yield store
    await store.close()
