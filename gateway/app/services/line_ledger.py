"""Which LINE webhook events were seen, and which are not finished yet.

LINE redelivers an event when it did not get a 200 in time
(`deliveryContext.isRedelivery`), and may deliver one twice. Each event is
claimed once by its `webhookEventId` (Redis `SET NX` with an expiry, so any
number of gateway processes agree); until it is answered it stays in a
pending hash with the raw event, the time it arrived and, once Rasa has
answered, that answer, so a retry never asks Rasa twice and an event that
failed half way is answered later by push instead of being lost.

Without Redis (or while it is down) the same happens in this process.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# LINE may redeliver for a while; an event id older than this is long done.
SEEN_SECONDS = 24 * 3600


@dataclass
class Pending:
    event: dict[str, Any]
    received_at: float
    answer: list[dict[str, Any]] | None = None  # LINE messages, once computed
    attempts: int = 0

    def dump(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def load(cls, text: str) -> Pending:
        return cls(**json.loads(text))


@dataclass
class _Memory:
    seen: dict[str, float] = field(default_factory=dict)  # event id -> expiry
    pending: dict[str, str] = field(default_factory=dict)
    leases: dict[str, float] = field(default_factory=dict)  # event id -> expiry


class EventLedger:
    def __init__(self, redis: aioredis.Redis | None, prefix: str) -> None:
        self.redis = redis
        self.seen_prefix = f"{prefix}line:seen:"
        self.pending_key = f"{prefix}line:pending"
        self.lease_prefix = f"{prefix}line:lease:"
        self.memory = _Memory()

    async def claim(self, event_id: str, pending: Pending) -> bool:
        """True the first time an event id is claimed; then it is pending."""
        if self.redis is not None:
            try:
                first = await self.redis.set(
                    self.seen_prefix + event_id, "1", nx=True, ex=SEEN_SECONDS
                )
                if first:
                    await self.redis.hset(self.pending_key, event_id, pending.dump())
                return bool(first)
            except RedisError as exc:
                log.warning("Redis failed (%s): LINE events de-duplicated in memory", exc)
        now = time.time()
        if len(self.memory.seen) > 100_000:
            self.memory.seen = {k: v for k, v in self.memory.seen.items() if v > now}
        if self.memory.seen.get(event_id, 0) > now:
            return False
        self.memory.seen[event_id] = now + SEEN_SECONDS
        self.memory.pending[event_id] = pending.dump()
        return True

    async def lease(self, event_id: str, seconds: int) -> bool:
        """True for the one caller that may take up a left-pending event now:
        of several gateway processes, or recovery rounds, only one answers it.
        The lease expires, so an event whose taker died is taken up again."""
        if self.redis is not None:
            try:
                return bool(
                    await self.redis.set(self.lease_prefix + event_id, "1", nx=True, ex=seconds)
                )
            except RedisError as exc:
                log.warning("Redis failed (%s): LINE recovery leased in memory", exc)
        now = time.time()
        self.memory.leases = {k: v for k, v in self.memory.leases.items() if v > now}
        if event_id in self.memory.leases:
            return False
        self.memory.leases[event_id] = now + seconds
        return True

    async def save(self, event_id: str, pending: Pending) -> None:
        if self.redis is not None:
            try:
                await self.redis.hset(self.pending_key, event_id, pending.dump())
                return
            except RedisError as exc:
                log.warning("Redis failed (%s): pending LINE event kept in memory", exc)
        self.memory.pending[event_id] = pending.dump()

    async def done(self, event_id: str) -> None:
        self.memory.pending.pop(event_id, None)
        if self.redis is not None:
            try:
                await self.redis.hdel(self.pending_key, event_id)
            except RedisError as exc:
                log.warning("Redis failed (%s): a done LINE event stays pending", exc)

    async def pending(self) -> dict[str, Pending]:
        found = dict(self.memory.pending)
        if self.redis is not None:
            try:
                found |= await self.redis.hgetall(self.pending_key)
            except RedisError as exc:
                log.warning("Redis failed (%s): pending LINE events not read", exc)
        return {k: Pending.load(v) for k, v in found.items()}
