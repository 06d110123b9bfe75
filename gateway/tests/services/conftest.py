"""Redis or this process's memory (app.core.redis.Shared), and a store and a
limiter over it, for the tests that hold for both."""

from __future__ import annotations

import secrets

import pytest

from app.core.limiter import Limiter
from app.core.redis import Shared, open_redis
from app.services.store import Store
from tests.servers import closed_port


def shared_redis(redis_url: str, prefix: str, timeout: float = 0.5) -> Shared:
    return Shared(open_redis(redis_url, timeout), prefix, timeout)


def redis_down(timeout: float = 0.2) -> Shared:
    """A Redis that refuses every connection."""
    return shared_redis(f"redis://127.0.0.1:{closed_port()}/0", "down:", timeout)


@pytest.fixture(params=["redis", "memory"])
async def any_shared(request, redis_url, key_prefix):
    if request.param == "memory":
        yield Shared(None, "mem:", 0.5)
        return
    shared = shared_redis(redis_url, f"{key_prefix}:any{secrets.token_hex(3)}:")
    yield shared
    await shared.close()


@pytest.fixture
def any_store(any_shared) -> Store:
    return Store(any_shared, ttl=600, history_max=5)


@pytest.fixture
def any_limiter(any_shared) -> Limiter:
    return Limiter(any_shared)
