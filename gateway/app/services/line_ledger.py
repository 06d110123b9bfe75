"""Which LINE webhook events were seen, and which are not finished yet.

LINE redelivers an event when it did not get a 200 in time
(`deliveryContext.isRedelivery`), and may deliver one twice. Each event is
claimed once by its `webhookEventId` (Redis `SET NX` with an expiry, so any
number of gateway processes agree); until it is answered it stays in a
pending hash with the raw event, the time it arrived and, once Rasa has
answered, that answer, so a retry never asks Rasa twice and an event that
failed half way is answered later by push instead of being lost.

Without Redis (or while it is down) the same happens in this process.

Every Redis call here waits at most `timeout` seconds (LINE_REDIS_TIMEOUT),
and the webhook's own call — claiming all the events of one request — is one
round trip (a Lua script): with Redis hung, the webhook still answers LINE
well within a second, from this process's memory.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as aioredis

from app.core.redis import Shared, as_shared

T = TypeVar("T")

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
        # ASCII: a lone surrogate from a JSON escape ("\\ud800") survives the trip.
        return json.dumps(self.__dict__)

    @classmethod
    def load(cls, text: str) -> Pending:
        return cls(**json.loads(text))


@dataclass
class _Memory:
    seen: dict[str, float] = field(default_factory=dict)  # event id -> expiry
    pending: dict[str, str] = field(default_factory=dict)
    leases: dict[str, float] = field(default_factory=dict)  # event id -> expiry


# KEYS: the pending hash, then each event's "seen" key. ARGV: the seen
# expiry, then each event's id and pending record. Returns 1/0 per event.
CLAIM = """
local claimed = {}
for i = 2, #KEYS do
  local id, record = ARGV[2 * i - 2], ARGV[2 * i - 1]
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('HSET', KEYS[1], id, record)
    claimed[#claimed + 1] = 1
  else
    claimed[#claimed + 1] = 0
  end
end
return claimed
"""


class EventLedger:
    def __init__(
        self, redis: Shared | aioredis.Redis | None, prefix: str, timeout: float = 0.3
    ) -> None:
        # The process's one client and fallback (app.core.redis), every call
        # within LINE's budget; the memory side is the ledger's own, since an
        # event must stay claimed across calls.
        self.shared = as_shared(redis, prefix, timeout)
        self.redis = self.shared.redis
        self.timeout = timeout
        self.seen_prefix = f"{prefix}line:seen:"
        self.pending_key = f"{prefix}line:pending"
        self.lease_prefix = f"{prefix}line:lease:"
        self.memory = _Memory()
        self._claim = self.redis.register_script(CLAIM) if self.redis is not None else None

    async def _run(
        self, what: str, remote: Callable[[Any], Awaitable[T]], local: Callable[[], T]
    ) -> T:
        """`remote(redis)` within `timeout` seconds, else `local()`."""
        return await self.shared.run(what, remote, local, budget=self.timeout)

    async def claim(self, event_id: str, pending: Pending) -> bool:
        """True the first time an event id is claimed; then it is pending."""
        return (await self.claim_all([(event_id, pending)]))[0]

    async def claim_all(self, events: list[tuple[str, Pending]]) -> list[bool]:
        """`claim` for each event, in one Redis round trip (at most `timeout`)."""
        if not events:
            return []
        keys = [self.pending_key, *(self.seen_prefix + event_id for event_id, _ in events)]
        args: list[Any] = [SEEN_SECONDS]
        for event_id, pending in events:
            args += [event_id, pending.dump()]

        async def remote(_redis: Any) -> list[bool]:
            claimed = await self._claim(keys=keys, args=args)  # type: ignore[misc]
            return [bool(c) for c in claimed]

        return await self._run(
            "LINE claim",
            remote,
            lambda: [self._claim_in_memory(event_id, pending) for event_id, pending in events],
        )

    def _claim_in_memory(self, event_id: str, pending: Pending) -> bool:
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

        async def remote(redis: Any) -> bool:
            return bool(await redis.set(self.lease_prefix + event_id, "1", nx=True, ex=seconds))

        def local() -> bool:
            now = time.time()
            self.memory.leases = {k: v for k, v in self.memory.leases.items() if v > now}
            if event_id in self.memory.leases:
                return False
            self.memory.leases[event_id] = now + seconds
            return True

        return await self._run("LINE lease", remote, local)

    async def save(self, event_id: str, pending: Pending) -> None:
        record = pending.dump()

        def local() -> None:
            self.memory.pending[event_id] = record

        await self._run(
            "LINE pending event", lambda r: r.hset(self.pending_key, event_id, record), local
        )

    async def done(self, event_id: str) -> None:
        self.memory.pending.pop(event_id, None)
        # If Redis fails, the done event stays pending there: `recover` finds
        # it answered (its lease, its attempts) rather than lost.
        await self._run("LINE done event", lambda r: r.hdel(self.pending_key, event_id), lambda: 0)

    async def pending(self) -> dict[str, Pending]:
        """Every pending event; a record that cannot be read is left out (and
        forgotten: nothing could ever answer it)."""
        found = dict(self.memory.pending)
        found |= await self._run("LINE pending events", lambda r: r.hgetall(self.pending_key), dict)
        records = {}
        for event_id, text in found.items():
            try:
                records[event_id] = Pending.load(text)
            except (ValueError, TypeError):
                log.warning("LINE pending record %s is not readable: dropped", event_id)
                await self.done(event_id)
        return records
