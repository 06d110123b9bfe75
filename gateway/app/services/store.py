"""The gateway's conversations: which ids it issued, and their history; and
the sign-in attempts' reservations.

Redis when configured (`<prefix>conv:<id>`, a marker; `<prefix>hist:<id>`, a
list of JSON entries; `<prefix>rl:reserve:<bucket>`, counters; every key
expiring), this process's memory without it or for any call Redis fails
(app.core.redis: the one client, error list and fallback). Rate limits of
the chat are app.core.limiter's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.core.limiter import Allowance
from app.core.redis import FAILURES, Expiring, Shared

Entry = dict[str, Any]  # {"role": "user" | "bot", "text": str, "buttons": [...]}


class StoreUnavailable(RuntimeError):
    """The configured store could not answer."""


@dataclass(frozen=True)
class Reservation:
    """A slot taken in counters before an attempt (see `reserve`): `release`
    gives it back when the attempt turns out not to count (a right password)."""

    allowance: Allowance
    release: Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


# KEYS: the history, the conversation. ARGV: the most entries kept, the
# expiry, now, then the entries (JSON). The conversation lives on with it.
APPEND = """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
"""

# KEYS: the buckets' counters. ARGV: the limit, the seconds a counter lives
# from its first slot. Every counter below the limit: each counts one more,
# {1, highest count, 0}; else none changes, {0, highest count, seconds until
# the full one expires}. One script: parallel attempts cannot all pass the
# check before any of them is counted.
RESERVE = """
local highest, wait = 0, 0
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > highest then highest = count end
  if count >= tonumber(ARGV[1]) then wait = math.max(wait, redis.call('TTL', key)) end
end
if highest >= tonumber(ARGV[1]) then return {0, highest, wait} end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[2]) end
end
return {1, highest + 1, 0}
"""

RELEASE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
"""


class Store:
    def __init__(
        self, shared: Shared, ttl: int, history_max: int, max_conversations: int = 10_000
    ) -> None:
        self.shared = shared
        self.ttl = ttl
        self.history_max = history_max
        self.conversations: Expiring[list[Entry]] = Expiring(max_conversations)
        self._reserved: dict[str, tuple[float, int]] = {}  # bucket -> (expires, slots taken)
        redis = shared.redis
        # One command per call (EVALSHA): less work here than a pipeline.
        self._append = redis.register_script(APPEND) if redis else None
        self._reserve = redis.register_script(RESERVE) if redis else None
        self._release = redis.register_script(RELEASE) if redis else None

    @property
    def configured(self) -> bool:
        return self.shared.configured

    def _key(self, kind: str, name: str) -> str:
        return self.shared.key(kind, name)

    # --- conversations ------------------------------------------------------

    async def conversation_exists(self, cid: str) -> bool:
        """Whether the conversation was issued here. Raises StoreUnavailable when
        Redis cannot tell (the caller must not invent an answer)."""

        def local() -> bool:
            if cid in self.conversations:
                return True
            if self.shared.configured:
                raise StoreUnavailable("Redis cannot tell")
            return False

        return await self.shared.run(
            "conversation lookup", lambda r: self._exists(r, self._key("conv", cid)), local
        )

    @staticmethod
    async def _exists(redis: Any, key: str) -> bool:
        return bool(await redis.exists(key))

    async def create_conversation(self, cid: str) -> None:
        await self.shared.run(
            "conversation creation",
            lambda r: r.set(self._key("conv", cid), int(time.time()), ex=self.ttl),
            lambda: self.conversations.put(cid, self.conversations.get(cid) or [], self.ttl),
        )

    async def append_history(self, cid: str, entries: list[Entry]) -> None:
        if not entries:
            return

        def local() -> None:
            kept = (self.conversations.get(cid) or []) + entries
            self.conversations.put(cid, kept[-self.history_max :], self.ttl)

        await self.shared.run(
            "history",
            lambda _r: self._append(  # type: ignore[misc]
                keys=[self._key("hist", cid), self._key("conv", cid)],
                args=[
                    self.history_max,
                    self.ttl,
                    int(time.time()),
                    *(json.dumps(e, ensure_ascii=False) for e in entries),
                ],
            ),
            local,
        )

    async def history(self, cid: str) -> list[Entry]:
        async def remote(redis: Any) -> list[Entry]:
            raw = await redis.lrange(self._key("hist", cid), 0, -1)
            return [json.loads(item) for item in raw]

        return await self.shared.run(
            "history", remote, lambda: list(self.conversations.get(cid) or [])
        )

    # --- sign-in attempts ---------------------------------------------------
    # Not `limits`: a sign-in takes a slot in two buckets (address, name) or
    # in none, atomically, and a right password gives its slot back; limits'
    # strategies count one bucket at a time and cannot give a hit back.

    async def reserve(self, buckets: list[str], limit: int, window: int) -> Reservation:
        """A slot in this process's memory and, when configured, in Redis: both
        must have one. Redis failing for some attempts (say 100 at once, more
        than its pool connects in time) then gives them no second allowance:
        this process never checks more than `limit`, whatever Redis does."""
        local = self._reserve_here(buckets, limit, window)
        if not local.allowance.allowed or self._reserve is None:
            return local
        keys = [self._key("rl", f"reserve:{b}") for b in buckets]

        async def remote(_redis: Any) -> Reservation:
            taken, count, wait = await self._reserve(keys=keys, args=[limit, window])  # type: ignore[misc]
            allowance = Allowance(bool(taken), window if taken else max(1, int(wait)), int(count))
            if not taken:
                await local.release()
                return Reservation(allowance, _nothing)

            async def release() -> None:
                await local.release()
                # The slot stays taken if Redis fails: the safe side.
                await self.shared.run(
                    "sign-in release",
                    lambda _r: self._release(keys=keys),  # type: ignore[misc]
                    _nothing,
                )

            return Reservation(allowance, release)

        return await self.shared.run("sign-in reservation", remote, lambda: local)

    def _reserve_here(self, buckets: list[str], limit: int, window: int) -> Reservation:
        """Take a slot in every bucket's counter, or in none when one is full.

        A counter lives `window` seconds from its first slot. No `await`
        between the check and the count: in the event loop the two happen as
        one step, so parallel attempts cannot all see a free slot.
        """
        now = time.monotonic()
        keys = [f"reserve:{b}" for b in buckets]
        live = {k: v for k in keys if (v := self._reserved.get(k)) and v[0] > now}
        full = [v for v in live.values() if v[1] >= limit]
        if full:
            retry_after = max(1, int(max(until for until, _ in full) - now))
            return Reservation(Allowance(False, retry_after, limit), _nothing)
        if len(self._reserved) > 50_000:
            self._reserved = {k: v for k, v in self._reserved.items() if v[0] > now}
        highest = 0
        for key in keys:
            until, count = live.get(key, (now + window, 0))
            self._reserved[key] = (until, count + 1)
            highest = max(highest, count + 1)

        async def release() -> None:
            for key in keys:
                until, count = self._reserved.get(key, (0.0, 0))
                if count > 0:
                    self._reserved[key] = (until, count - 1)

        return Reservation(Allowance(True, window, highest), release)

    async def ping(self) -> bool:
        return await self.shared.ping()


# The name app.state.store's type had before (the admin routes' annotations).
ResilientStore = Store
__all__ = ["FAILURES", "Reservation", "ResilientStore", "Store", "StoreUnavailable"]
