"""Dead letters: LINE events the gateway acknowledged but could not handle.

An event of a type the LINE SDK does not know, a signed but malformed event
(a text that is null, a user source without a user id), or one that failed
LINE_MAX_ATTEMPTS times is not retried again: it is parked here, for staff
to see on /admin/line/dead-letters, and dropped from the pending events.

A record holds what staff need and nothing that identifies the person: the
event's type and id, when it arrived and was parked, why, how many tries,
and the text or postback data masked by soudan.masking. No LINE user id.

Storage is behind one small interface (`DeadLetterStore`: add, list,
remove), so that it can move to a SQL database: today a Redis list
(`<prefix>line:dead`, newest first, at most DEAD_LETTER_MAX records, the
list expiring DEAD_LETTER_TTL_DAYS after the last record and older records
left out when read), with this process's memory when there is no Redis or
it fails. Every Redis call has a timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

REDIS_FAILURES = (RedisError, OSError, TimeoutError)

Record = dict[str, Any]


class DeadLetterStore(Protocol):
    async def add(self, record: Record) -> None: ...
    async def list(self, limit: int = 200) -> list[Record]: ...
    async def remove(self, record_id: str) -> bool: ...


class MemoryDeadLetters:
    def __init__(self, ttl_seconds: float, max_items: int) -> None:
        self.ttl = ttl_seconds
        self.items: deque[Record] = deque(maxlen=max_items)

    async def add(self, record: Record) -> None:
        self.items.appendleft(record)

    async def list(self, limit: int = 200) -> list[Record]:
        oldest = time.time() - self.ttl
        return [dict(r) for r in self.items if r.get("parked_at", 0) >= oldest][:limit]

    async def remove(self, record_id: str) -> bool:
        for record in list(self.items):
            if record.get("id") == record_id:
                self.items.remove(record)
                return True
        return False


class RedisDeadLetters:
    def __init__(
        self, redis: aioredis.Redis, key: str, ttl_seconds: float, max_items: int, timeout: float
    ) -> None:
        self.redis = redis
        self.key = key
        self.ttl = ttl_seconds
        self.max_items = max_items
        self.timeout = timeout

    async def add(self, record: Record) -> None:
        async def push() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.lpush(self.key, json.dumps(record))
                pipe.ltrim(self.key, 0, self.max_items - 1)
                pipe.expire(self.key, int(self.ttl))
                await pipe.execute()

        await asyncio.wait_for(push(), self.timeout)

    async def _raw(self) -> list[str]:
        return await asyncio.wait_for(self.redis.lrange(self.key, 0, -1), self.timeout)

    async def list(self, limit: int = 200) -> list[Record]:
        oldest = time.time() - self.ttl
        records = []
        for raw in await self._raw():
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("parked_at", 0) >= oldest:
                records.append(record)
        return records[:limit]

    async def remove(self, record_id: str) -> bool:
        for raw in await self._raw():
            try:
                found = json.loads(raw).get("id") == record_id
            except (ValueError, AttributeError):
                continue
            if found:
                removed = await asyncio.wait_for(self.redis.lrem(self.key, 1, raw), self.timeout)
                return bool(removed)
        return False


class DeadLetters:
    """Redis when configured and answering; this process's memory otherwise.
    Never raises: parking an event must not fail the event's task."""

    def __init__(
        self,
        redis: aioredis.Redis | None,
        prefix: str,
        *,
        ttl_days: float = 30,
        max_items: int = 1000,
        timeout: float = 0.5,
    ) -> None:
        ttl = ttl_days * 86400
        self.memory = MemoryDeadLetters(ttl, max_items)
        self.primary = (
            RedisDeadLetters(redis, f"{prefix}line:dead", ttl, max_items, timeout)
            if redis is not None
            else None
        )

    async def add(self, record: Record) -> Record:
        record = {"id": secrets.token_hex(8), "parked_at": time.time(), **record}
        if self.primary is not None:
            try:
                await self.primary.add(record)
                return record
            except REDIS_FAILURES as exc:
                log.warning("dead letter in Redis failed (%r): kept in memory", exc)
        await self.memory.add(record)
        return record

    async def list(self, limit: int = 200) -> list[Record]:
        records = await self.memory.list(limit)
        if self.primary is not None:
            try:
                records += await self.primary.list(limit)
            except REDIS_FAILURES as exc:
                log.warning("dead letters in Redis not read (%r)", exc)
        records.sort(key=lambda r: r.get("parked_at", 0), reverse=True)
        return records[:limit]

    async def remove(self, record_id: str) -> bool:
        if await self.memory.remove(record_id):
            return True
        if self.primary is not None:
            try:
                return await self.primary.remove(record_id)
            except REDIS_FAILURES as exc:
                log.warning("dead letter in Redis not removed (%r)", exc)
        return False
