"""Admitting a chat message: the two rate limits and the conversation it belongs to.

Every message is counted (app.core.limiter: `limits`' fixed windows, in Redis
when configured) against its address and its conversation, and every new
conversation is made in the store. The first message of a browser, a cookie
this process has not admitted lately and any message that could reach a
limit wait for those counts. A repeat message of a conversation this process
admitted in the last `known_for` seconds, with both counts below their
limits by more than this one message, goes on to the assistant while it is
counted: the Redis round trips then overlap the answer instead of adding to
it (docs/measurements.md).

The cost of that: a limit can be passed by the messages in flight when it is
reached, since a process learns the shared counts (of every gateway process)
with each admission, not before. One browser, which waits for each answer,
talking to one process meets its limits exactly.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from app.core.limiter import Allowance, Limiter
from app.services.store import Store, StoreUnavailable

log = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """Messages allowed per window (seconds) to one address and to one conversation."""

    client: int
    conversation: int
    window: int


def new_conversation_id() -> str:
    """43 characters of the URL-safe base64 alphabet, 256 random bits."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Conversation:
    id: str
    # False when the store could not say whether the cookie's conversation
    # exists: this message then uses a one-off id and the cookie is left alone.
    persistent: bool = True


def _refuse_if_over(allowance: Allowance) -> None:
    if not allowance.allowed:
        raise RateLimited(allowance.retry_after)


class Admissions:
    def __init__(
        self,
        store: Store,
        limiter: Limiter,
        limits: Limits,
        known_for: float = 600,
        remember: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.limiter = limiter
        self.limits = limits
        self.known_for = known_for
        self.remember = remember
        self.clock = clock
        # Conversations this process admitted, oldest first: id -> until when
        # they count as known (the store keeps them far longer: CONVERSATION_TTL).
        self._known: OrderedDict[str, float] = OrderedDict()
        # The counts as last learnt, plus this process's messages since:
        # bucket -> (until when the count may still be of the current window, count).
        self._counts: dict[str, tuple[float, int]] = {}
        self._counting: set[asyncio.Task] = set()

    async def admit(self, client: str, cookie: str | None) -> Conversation:
        """The conversation of a message from `client`; `cookie` is the browser's
        conversation id if it is well formed, else None. Raises RateLimited."""
        if cookie is not None and self._may_go_ahead(client, cookie):
            task = asyncio.create_task(self._count(client, cookie))
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)
            return Conversation(cookie)
        client_bucket = f"client:{client}"
        if cookie is None:
            _refuse_if_over(await self._hit(client_bucket, self.limits.client))
        else:
            # One round trip: the address's count, whether the cookie's
            # conversation exists, and its count (a forged cookie's counter
            # just expires with its window).
            allowance, existed, counted = await asyncio.gather(
                self._hit(client_bucket, self.limits.client),
                self._exists(cookie),
                self._hit(f"conversation:{cookie}", self.limits.conversation),
            )
            _refuse_if_over(allowance)
            if existed:
                _refuse_if_over(counted)
                self._know(cookie)
                return Conversation(cookie)
            if existed is None:
                # The store cannot tell: keep the cookie for when it is back.
                return Conversation(new_conversation_id(), persistent=False)
        # Only an address within its limit makes a conversation.
        new_id = new_conversation_id()
        _, counted = await asyncio.gather(
            self.store.create_conversation(new_id),
            self._hit(f"conversation:{new_id}", self.limits.conversation),
        )
        _refuse_if_over(counted)
        self._know(new_id)
        return Conversation(new_id)

    async def settled(self) -> None:
        """Wait for the counts still on their way to the store."""
        while self._counting:
            await asyncio.gather(*self._counting, return_exceptions=True)

    async def _exists(self, cid: str) -> bool | None:
        try:
            return await self.store.conversation_exists(cid)
        except StoreUnavailable:
            return None

    async def _hit(self, bucket: str, limit: int) -> Allowance:
        allowance = await self.limiter.hit(bucket, limit, self.limits.window)
        self._learn(bucket, allowance)
        return allowance

    def _count_of(self, bucket: str) -> int | None:
        until, count = self._counts.get(bucket, (0.0, 0))
        return count if until > self.clock() else None

    def _may_go_ahead(self, client: str, cid: str) -> bool:
        until = self._known.get(cid)
        if until is None or until < self.clock():
            return False
        buckets = {
            f"client:{client}": self.limits.client,
            f"conversation:{cid}": self.limits.conversation,
        }
        counts = {b: self._count_of(b) for b in buckets}
        # Unknown counts, or a message that may reach a limit: it waits.
        if any(c is None or c + 1 >= buckets[b] for b, c in counts.items()):
            return False
        for bucket, count in counts.items():
            self._counts[bucket] = (self._counts[bucket][0], count + 1)  # type: ignore[operator]
        return True

    async def _count(self, client: str, cid: str) -> None:
        # The conversation is made again too: this process issued or checked
        # it, so if the store lost it (a Redis restart) it is back.
        try:
            allowance, counted, _ = await asyncio.gather(
                self._hit(f"client:{client}", self.limits.client),
                self._hit(f"conversation:{cid}", self.limits.conversation),
                self.store.create_conversation(cid),
            )
        except Exception:  # the message is answered already; the next one retries
            log.exception("counting a message failed")
            return
        if not (allowance.allowed and counted.allowed):
            log.info("a message went ahead and was then over a rate limit")

    def _know(self, cid: str) -> None:
        self._known[cid] = self.clock() + self.known_for
        self._known.move_to_end(cid)
        while len(self._known) > self.remember:
            self._known.popitem(last=False)

    def _learn(self, bucket: str, allowance: Allowance) -> None:
        now = self.clock()
        if len(self._counts) > 5 * self.remember:  # ended windows are never read again
            self._counts = {b: v for b, v in self._counts.items() if v[0] > now}
        if allowance.count <= 1:
            # A window begins: it ends `window` seconds from now, exactly.
            self._counts[bucket] = (now + self.limits.window, allowance.count)
            return
        # Within a window begun earlier: kept until at most a whole window
        # from now (so a count is never forgotten too soon), with this
        # process's messages not yet counted by the store.
        until = self._counts.get(bucket, (0.0, 0))[0]
        local = self._count_of(bucket) or 0
        self._counts[bucket] = (
            until if until > now else now + self.limits.window,
            max(allowance.count, local),
        )
