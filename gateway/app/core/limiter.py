"""Rate limits: fixed windows counted by `limits` (PyPI), in Redis when it
is configured, in this process's memory otherwise or while Redis fails.

One `Limiter` per process. A bucket ("client:<address>",
"conversation:<id>") is counted in a window of `window` seconds that starts
with its first message (limits' fixed window: the counter key expires with
the window), so a burst cannot pass twice at a clock-aligned edge.

The Redis side uses the process's one client (its connection pool: same
timeouts, no retries); a call Redis fails is counted in memory instead,
through the one fallback of app.core.redis.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from app.core.redis import Shared


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    retry_after: int  # seconds until the bucket's window ends
    count: int = 0  # messages counted in the window, this one included


class Limiter:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.memory = FixedWindowRateLimiter(MemoryStorage())
        self.redis = None
        if shared.redis is not None:
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=shared.redis.connection_pool,
                key_prefix=shared.key("rl"),
                # Its errors as limits.errors.StorageError, one of FAILURES.
                wrap_exceptions=True,
            )
            self.redis = FixedWindowRateLimiter(storage)

    async def hit(self, bucket: str, limit: int, window: int) -> Allowance:
        """Count one message in `bucket`; allowed while the window's count is
        at most `limit`."""
        item = RateLimitItemPerSecond(limit, window)
        return await self.shared.run(
            "rate limit",
            lambda _redis: _hit(self.redis, item, bucket),  # type: ignore[arg-type]
            lambda: _hit(self.memory, item, bucket),
        )

    async def close(self) -> None:
        await self.memory.storage.reset()


async def _hit(limiter: FixedWindowRateLimiter, item: RateLimitItemPerSecond, bucket: str):
    # FixedWindowRateLimiter.hit is exactly `storage.incr(key, expiry) <= amount`;
    # the count it throws away is read here, so that app.services.admission
    # learns how near a limit a bucket is without another round trip.
    key = item.key_for(bucket)
    count = await limiter.storage.incr(key, item.get_expiry())
    if count <= item.amount:
        return Allowance(True, item.get_expiry() if count == 1 else 0, count)
    # Refused: when its window ends (limits' reset time), for Retry-After.
    reset = await limiter.storage.get_expiry(key)
    return Allowance(False, max(1, math.ceil(reset - time.time())), count)
