"""The gateway's state: known conversations, their history, rate-limit counters.

`RedisStore` keeps it in Redis under a key prefix, each key with an expiry;
`MemoryStore` keeps it in this process (one process, lost on restart).
`ResilientStore` is what the app uses: Redis when configured, and for any
call that Redis fails (down, slow), the memory store for that call, so a
Redis outage costs state, never an answer. Nothing is cached about Redis
being down: the next call tries it again.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Entry = dict[str, Any]  # {"role": "user" | "bot", "text": str, "buttons": [...]}


class StoreUnavailable(RuntimeError):
    """The configured store could not answer."""


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    retry_after: int  # seconds until the current window ends
    count: int = 0  # messages counted in the window, this one included


@dataclass(frozen=True)
class Limits:
    """Messages allowed per window (seconds) to one address and to one conversation."""

    client: int
    conversation: int
    window: int


@dataclass(frozen=True)
class Admission:
    """What one message needs to know before it goes on, in one round trip:
    the address's allowance and, if that allows it, the conversation."""

    client: Allowance
    # The conversation the message belongs to: the cookie's when it exists,
    # else the new one, now created. None when the address was refused.
    conversation: str | None = None
    # Whether the cookie's conversation existed; None when there was no
    # cookie, or (ResilientStore) when the store could not tell.
    existed: bool | None = None
    # The conversation's own allowance (None when the address was refused).
    allowance: Allowance | None = None


@dataclass(frozen=True)
class Reservation:
    """A slot taken in counters before an attempt (see `reserve`): `release`
    gives it back when the attempt turns out not to count (a right password)."""

    allowance: Allowance
    release: Callable[[], Awaitable[None]]


def fixed_window(window: int, now: float) -> tuple[int, int]:
    """The index of the `window`-second window holding `now`, and the seconds left in it."""
    index = int(now // window)
    return index, max(1, int((index + 1) * window - now))


class StateStore(Protocol):
    async def conversation_exists(self, cid: str) -> bool: ...
    async def create_conversation(self, cid: str) -> None: ...
    async def append_history(self, cid: str, entries: list[Entry]) -> None: ...
    async def history(self, cid: str) -> list[Entry]: ...
    async def hit(self, bucket: str, limit: int, window: int) -> Allowance: ...
    async def admit(
        self, client: str, cid: str | None, new_cid: str, limits: Limits
    ) -> Admission: ...
    async def reserve(self, buckets: list[str], limit: int, window: int) -> Reservation: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryStore:
    """State in this process, bounded in size, with the same expiries."""

    def __init__(self, ttl: int, history_max: int, max_conversations: int = 10_000) -> None:
        self.ttl = ttl
        self.history_max = history_max
        self.max_conversations = max_conversations
        # cid -> (expires_at, entries); oldest first.
        self._conversations: OrderedDict[str, tuple[float, list[Entry]]] = OrderedDict()
        self._counters: dict[str, tuple[int, int]] = {}  # bucket -> (window index, count)
        self._reserved: dict[str, tuple[float, int]] = {}  # bucket -> (expires, slots taken)

    def _live(self, cid: str) -> list[Entry] | None:
        item = self._conversations.get(cid)
        if item is None:
            return None
        expires, entries = item
        if expires < time.monotonic():
            del self._conversations[cid]
            return None
        return entries

    def _keep(self, cid: str, entries: list[Entry]) -> None:
        self._conversations[cid] = (time.monotonic() + self.ttl, entries)
        self._conversations.move_to_end(cid)
        while len(self._conversations) > self.max_conversations:
            self._conversations.popitem(last=False)

    async def conversation_exists(self, cid: str) -> bool:
        return self._live(cid) is not None

    async def create_conversation(self, cid: str) -> None:
        self._keep(cid, self._live(cid) or [])

    async def append_history(self, cid: str, entries: list[Entry]) -> None:
        kept = (self._live(cid) or []) + entries
        self._keep(cid, kept[-self.history_max :])

    async def history(self, cid: str) -> list[Entry]:
        return list(self._live(cid) or [])

    async def hit(self, bucket: str, limit: int, window: int) -> Allowance:
        index, retry_after = fixed_window(window, time.time())
        if len(self._counters) > 50_000:  # old windows are never read again
            self._counters = {k: v for k, v in self._counters.items() if v[0] == index}
        seen_index, count = self._counters.get(bucket, (index, 0))
        count = count + 1 if seen_index == index else 1
        self._counters[bucket] = (index, count)
        return Allowance(count <= limit, retry_after, count)

    async def admit(self, client: str, cid: str | None, new_cid: str, limits: Limits) -> Admission:
        """Count the address; if it is allowed, take the cookie's conversation
        when it exists, else create `new_cid`; count that conversation."""
        client_allowance = await self.hit(f"client:{client}", limits.client, limits.window)
        if not client_allowance.allowed:
            return Admission(client_allowance)
        existed = None if cid is None else await self.conversation_exists(cid)
        conversation = cid if existed else new_cid
        if not existed:
            await self.create_conversation(conversation)
        allowance = await self.hit(
            f"conversation:{conversation}", limits.conversation, limits.window
        )
        return Admission(client_allowance, conversation, existed, allowance)

    async def reserve(self, buckets: list[str], limit: int, window: int) -> Reservation:
        """Take a slot in every bucket's counter, or in none when one is full.

        A counter lives `window` seconds from its first slot (not in windows
        aligned on the clock, whose edge would let a burst in twice). No
        `await` between the check and the count: in the event loop the two
        happen as one step, so parallel attempts cannot all see a free slot.
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
        return True

    async def close(self) -> None:
        return None


async def _nothing() -> None:
    return None


# KEYS: the address's counter; the cookie's conversation and its counter;
# the new conversation and its counter. ARGV: the counters' expiry, the
# conversations' expiry, now, the address's limit. Returns {address's count,
# whether the cookie's conversation existed, the used conversation's count}.
ADMIT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if hits > tonumber(ARGV[4]) then return {hits, 0, 0} end
local existed = redis.call('EXISTS', KEYS[2])
local counter = KEYS[3]
if existed == 0 then
  redis.call('SET', KEYS[4], ARGV[3], 'EX', ARGV[2])
  counter = KEYS[5]
end
local count = redis.call('INCR', counter)
if count == 1 then redis.call('EXPIRE', counter, ARGV[1]) end
return {hits, existed, count}
"""

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


class RedisStore:
    """State in Redis: `<prefix>conv:<id>` (a marker), `<prefix>hist:<id>` (a list of
    JSON entries) and `<prefix>rl:<bucket>:<window>` (counters), all expiring."""

    def __init__(self, url: str, prefix: str, ttl: int, history_max: int, timeout: float) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self.history_max = history_max
        # No retries: a failed call falls back at once; the pool reconnects on
        # the next call, so the store comes back by itself with Redis.
        self.redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
            health_check_interval=30,
        )
        # One command per call (EVALSHA): less work here than a pipeline.
        self._admit = self.redis.register_script(ADMIT)
        self._append = self.redis.register_script(APPEND)
        self._reserve = self.redis.register_script(RESERVE)
        self._release = self.redis.register_script(RELEASE)

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    async def conversation_exists(self, cid: str) -> bool:
        return bool(await self.redis.exists(self._key("conv", cid)))

    async def create_conversation(self, cid: str) -> None:
        await self.redis.set(self._key("conv", cid), int(time.time()), ex=self.ttl)

    async def append_history(self, cid: str, entries: list[Entry]) -> None:
        if not entries:
            return
        await self._append(
            keys=[self._key("hist", cid), self._key("conv", cid)],
            args=[
                self.history_max,
                self.ttl,
                int(time.time()),
                *(json.dumps(e, ensure_ascii=False) for e in entries),
            ],
        )

    async def history(self, cid: str) -> list[Entry]:
        raw = await self.redis.lrange(self._key("hist", cid), 0, -1)
        return [json.loads(item) for item in raw]

    async def hit(self, bucket: str, limit: int, window: int) -> Allowance:
        index, retry_after = fixed_window(window, time.time())
        key = self._key("rl", f"{bucket}:{index}")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count, _ = await pipe.execute()
        return Allowance(int(count) <= limit, retry_after, int(count))

    async def admit(self, client: str, cid: str | None, new_cid: str, limits: Limits) -> Admission:
        """As MemoryStore.admit, in one round trip (a Lua script, so the
        check and the creation happen together)."""
        index, retry_after = fixed_window(limits.window, time.time())
        cid = cid or new_cid
        keys = [
            self._key("rl", f"client:{client}:{index}"),
            self._key("conv", cid),
            self._key("rl", f"conversation:{cid}:{index}"),
            self._key("conv", new_cid),
            self._key("rl", f"conversation:{new_cid}:{index}"),
        ]
        hits, existed, count = await self._admit(
            keys=keys, args=[limits.window + 1, self.ttl, int(time.time()), limits.client]
        )
        client_allowance = Allowance(int(hits) <= limits.client, retry_after, int(hits))
        if not client_allowance.allowed:
            return Admission(client_allowance)
        existed = bool(existed) if cid != new_cid else None
        return Admission(
            client_allowance,
            cid if existed else new_cid,
            existed,
            Allowance(int(count) <= limits.conversation, retry_after, int(count)),
        )

    async def reserve(self, buckets: list[str], limit: int, window: int) -> Reservation:
        """As MemoryStore.reserve, in Redis (a Lua script: one atomic step for
        every gateway process)."""
        keys = [self._key("rl", f"reserve:{b}") for b in buckets]
        taken, count, wait = await self._reserve(keys=keys, args=[limit, window])
        retry_after = window if taken else max(1, int(wait))

        async def release() -> None:
            try:
                await self._release(keys=keys)
            except REDIS_FAILURES as exc:  # the slot stays taken: the safe side
                log.warning("Redis release failed (%s)", exc)

        return Reservation(
            Allowance(bool(taken), retry_after, int(count)), release if taken else _nothing
        )

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()


# What counts as "Redis failed": its own errors, sockets, timeouts.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


class ResilientStore:
    """Redis when configured and answering; this process's memory otherwise."""

    def __init__(self, primary: RedisStore | None, memory: MemoryStore) -> None:
        self.primary = primary
        self.memory = memory

    @property
    def configured(self) -> bool:
        return self.primary is not None

    async def _call(self, name: str, *args: Any) -> Any:
        if self.primary is not None:
            try:
                return await getattr(self.primary, name)(*args)
            except REDIS_FAILURES as exc:
                log.warning("Redis %s failed (%s); this process's memory answers", name, exc)
        return await getattr(self.memory, name)(*args)

    async def conversation_exists(self, cid: str) -> bool:
        """Whether the conversation was issued here. Raises StoreUnavailable when
        Redis cannot tell (the caller must not invent an answer)."""
        if self.primary is None:
            return await self.memory.conversation_exists(cid)
        try:
            return await self.primary.conversation_exists(cid)
        except REDIS_FAILURES as exc:
            if await self.memory.conversation_exists(cid):
                return True
            raise StoreUnavailable(str(exc)) from exc

    async def create_conversation(self, cid: str) -> None:
        await self._call("create_conversation", cid)

    async def append_history(self, cid: str, entries: list[Entry]) -> None:
        await self._call("append_history", cid, entries)

    async def history(self, cid: str) -> list[Entry]:
        return await self._call("history", cid)

    async def hit(self, bucket: str, limit: int, window: int) -> Allowance:
        return await self._call("hit", bucket, limit, window)

    async def admit(self, client: str, cid: str | None, new_cid: str, limits: Limits) -> Admission:
        """As the stores' `admit`; when Redis fails, this process's memory
        answers, and `existed` is None unless this process knows the cookie's
        conversation (it then may exist in Redis: the caller must not replace it)."""
        args = (client, cid, new_cid, limits)
        if self.primary is not None:
            try:
                return await self.primary.admit(*args)
            except REDIS_FAILURES as exc:
                log.warning("Redis admit failed (%s); this process's memory answers", exc)
                admission = await self.memory.admit(*args)
                if admission.existed is False:
                    return replace(admission, existed=None)
                return admission
        return await self.memory.admit(*args)

    async def reserve(self, buckets: list[str], limit: int, window: int) -> Reservation:
        """A slot in this process's memory and, when configured, in Redis: both
        must have one. Redis failing for some attempts (say 100 at once, more
        than its pool connects in time) then gives them no second allowance:
        this process never checks more than `limit`, whatever Redis does."""
        local = await self.memory.reserve(buckets, limit, window)
        if not local.allowance.allowed or self.primary is None:
            return local
        try:
            shared = await self.primary.reserve(buckets, limit, window)
        except REDIS_FAILURES as exc:
            log.warning("Redis reserve failed (%s); this process's memory answers", exc)
            return local
        if not shared.allowance.allowed:
            await local.release()
            return shared

        async def release() -> None:
            await local.release()
            await shared.release()

        return Reservation(shared.allowance, release)

    async def ping(self) -> bool:
        """Redis answers (True when no Redis is configured)."""
        if self.primary is None:
            return True
        try:
            return await self.primary.ping()
        except REDIS_FAILURES:
            return False

    async def close(self) -> None:
        if self.primary is not None:
            await self.primary.close()
