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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Admission:
    """What one message needs to know before it goes on, in one round trip."""

    client: Allowance
    # Whether the cookie's conversation exists; None when there is no cookie
    # id to check, or (ResilientStore) when the store could not tell.
    exists: bool | None
    conversation: Allowance | None


def _window(window: int, now: float) -> tuple[int, int]:
    index = int(now // window)
    return index, max(1, int((index + 1) * window - now))


class StateStore(Protocol):
    async def conversation_exists(self, cid: str) -> bool: ...
    async def create_conversation(self, cid: str) -> None: ...
    async def append_history(self, cid: str, entries: list[Entry]) -> None: ...
    async def history(self, cid: str) -> list[Entry]: ...
    async def hit(self, bucket: str, limit: int, window: int) -> Allowance: ...
    async def admit(
        self, client: str, cid: str | None, client_limit: int, conversation_limit: int, window: int
    ) -> Admission: ...
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
        index, retry_after = _window(window, time.time())
        if len(self._counters) > 50_000:  # old windows are never read again
            self._counters = {k: v for k, v in self._counters.items() if v[0] == index}
        seen_index, count = self._counters.get(bucket, (index, 0))
        count = count + 1 if seen_index == index else 1
        self._counters[bucket] = (index, count)
        return Allowance(count <= limit, retry_after)

    async def admit(
        self, client: str, cid: str | None, client_limit: int, conversation_limit: int, window: int
    ) -> Admission:
        client_allowance = await self.hit(f"client:{client}", client_limit, window)
        if cid is None:
            return Admission(client_allowance, None, None)
        exists = await self.conversation_exists(cid)
        conversation = await self.hit(f"conversation:{cid}", conversation_limit, window)
        return Admission(client_allowance, exists, conversation)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


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

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    async def conversation_exists(self, cid: str) -> bool:
        return bool(await self.redis.exists(self._key("conv", cid)))

    async def create_conversation(self, cid: str) -> None:
        await self.redis.set(self._key("conv", cid), int(time.time()), ex=self.ttl)

    async def append_history(self, cid: str, entries: list[Entry]) -> None:
        key = self._key("hist", cid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *(json.dumps(e, ensure_ascii=False) for e in entries))
            pipe.ltrim(key, -self.history_max, -1)
            pipe.expire(key, self.ttl)
            pipe.set(self._key("conv", cid), int(time.time()), ex=self.ttl)
            await pipe.execute()

    async def history(self, cid: str) -> list[Entry]:
        raw = await self.redis.lrange(self._key("hist", cid), 0, -1)
        return [json.loads(item) for item in raw]

    async def hit(self, bucket: str, limit: int, window: int) -> Allowance:
        index, retry_after = _window(window, time.time())
        key = self._key("rl", f"{bucket}:{index}")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count, _ = await pipe.execute()
        return Allowance(int(count) <= limit, retry_after)

    async def admit(
        self, client: str, cid: str | None, client_limit: int, conversation_limit: int, window: int
    ) -> Admission:
        """Both rate-limit counters and the conversation's existence, one round trip."""
        index, retry_after = _window(window, time.time())
        client_key = self._key("rl", f"client:{client}:{index}")
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(client_key)
            pipe.expire(client_key, window + 1)
            if cid is not None:
                conversation_key = self._key("rl", f"conversation:{cid}:{index}")
                pipe.exists(self._key("conv", cid))
                pipe.incr(conversation_key)
                pipe.expire(conversation_key, window + 1)
            results = await pipe.execute()
        client_allowance = Allowance(int(results[0]) <= client_limit, retry_after)
        if cid is None:
            return Admission(client_allowance, None, None)
        return Admission(
            client_allowance,
            bool(results[2]),
            Allowance(int(results[3]) <= conversation_limit, retry_after),
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

    async def admit(
        self, client: str, cid: str | None, client_limit: int, conversation_limit: int, window: int
    ) -> Admission:
        """As the stores' `admit`; when Redis fails, this process's memory counts,
        and `exists` is None unless this process knows the conversation."""
        args = (client, cid, client_limit, conversation_limit, window)
        if self.primary is not None:
            try:
                return await self.primary.admit(*args)
            except REDIS_FAILURES as exc:
                log.warning("Redis admit failed (%s); this process's memory answers", exc)
                admission = await self.memory.admit(*args)
                if admission.exists is False:
                    return Admission(admission.client, None, admission.conversation)
                return admission
        return await self.memory.admit(*args)

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
