"""The one way the gateway reaches Redis, and what it does when Redis fails.

- `open_redis`: the one client (one connection pool) of a process, opened
  with the one timeout policy: every socket operation waits at most
  REDIS_TIMEOUT seconds, and a failed command is not retried (the pool
  reconnects on the next call, so the gateway comes back with Redis).
- `FAILURES`: what counts as "Redis failed" everywhere: its own errors,
  sockets, timeouts, and `limits`' wrapped storage errors.
- `Shared.run`: the one fallback. A call that Redis fails (down, slow past
  its budget) is answered by this process's memory instead, so a Redis
  outage costs state, never a reply. Nothing is cached about Redis being
  down: the next call tries it again.
- `Expiring`: the memory side, a bounded map whose entries expire.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

import redis.asyncio as aioredis
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")

# Down, refusing, or slow past the timeout (asyncio's TimeoutError is this one).
FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError, StorageError)


def open_redis(url: str | None, timeout: float) -> aioredis.Redis | None:
    """The process's Redis client for REDIS_URL; None without one."""
    if not url:
        return None
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        # No retries: a failed call falls back at once.
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        health_check_interval=30,
    )


class Shared:
    """Redis (when configured) under a key prefix, with the one fallback."""

    def __init__(self, redis: aioredis.Redis | None, prefix: str, timeout: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return self.redis is not None

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def run(
        self,
        what: str,
        remote: Callable[[aioredis.Redis], Awaitable[T]],
        local: Callable[[], T | Awaitable[T]],
        *,
        budget: float | None = None,
    ) -> T:
        """`remote(redis)`, or `local()` when there is no Redis or it fails.

        `budget` (seconds) bounds the whole call (several round trips included) where
        a caller has a tighter budget than the sockets' (LINE's webhook)."""
        if self.redis is not None:
            try:
                call = remote(self.redis)
                return await (asyncio.wait_for(call, budget) if budget else call)
            except FAILURES as exc:
                log.warning("Redis %s failed (%r); this process's memory answers", what, exc)
        answer = local()
        return await answer if inspect.isawaitable(answer) else answer  # type: ignore[return-value]

    async def ping(self) -> bool:
        """Redis answers (True when none is configured)."""
        if self.redis is None:
            return True
        try:
            return bool(await self.redis.ping())
        except FAILURES:
            return False

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


class Expiring(Generic[V]):
    """This process's memory: key -> value, each with its expiry, at most
    `max_items` (the oldest written goes first)."""

    def __init__(self, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_items = max_items
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def put(self, key: str, value: V, ttl: float) -> None:
        self._items[key] = (self.clock() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def get(self, key: str, *, extend: float | None = None) -> V | None:
        """The live value (its expiry pushed `extend` seconds on), else None."""
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] < self.clock():
            del self._items[key]
            return None
        if extend is not None:
            self.put(key, found[1], extend)
        return found[1]

    def pop(self, key: str) -> V | None:
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._items)

    def live(self) -> Iterator[tuple[str, V]]:
        now = self.clock()
        for key, (expires, value) in list(self._items.items()):
            if expires >= now:
                yield key, value
            else:
                self._items.pop(key, None)


def as_shared(redis: Shared | aioredis.Redis | None, prefix: str, timeout: float) -> Shared:
    """A `Shared` for a service given one, or the older way, a Redis client or None."""
    return redis if isinstance(redis, Shared) else Shared(redis, prefix, timeout)
