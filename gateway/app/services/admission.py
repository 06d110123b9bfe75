"""Admitting a chat message: the two rate limits and the conversation it belongs to.

Every message is counted in the store (Redis when configured) against its
address and its conversation, and every new conversation is made there. The
first message of a browser, a cookie this process has not admitted lately and
any message that could reach a limit wait for that count. A repeat message of
a conversation this process admitted in the last `known_for` seconds, with
both counts below their limits by more than this one message, goes on to the
assistant while it is counted: the store's round trip then overlaps the
answer instead of adding to it (0.5 ms, a fifth of the gateway's own time per
message on these machines; docs/measurements.md).

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

from app.services.store import Admission, Limits, StateStore, fixed_window

log = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def new_conversation_id() -> str:
    """43 characters of the URL-safe base64 alphabet, 256 random bits."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Conversation:
    id: str
    # False when the store could not say whether the cookie's conversation
    # exists: this message then uses a one-off id and the cookie is left alone.
    persistent: bool = True


class Admissions:
    def __init__(
        self,
        store: StateStore,
        limits: Limits,
        known_for: float = 600,
        remember: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.limits = limits
        self.known_for = known_for
        self.remember = remember
        self.clock = clock
        # Conversations this process admitted, oldest first: id -> until when
        # they count as known (the store keeps them far longer: CONVERSATION_TTL).
        self._known: OrderedDict[str, float] = OrderedDict()
        # The counts as last learnt, plus this process's messages since:
        # bucket -> (window index, count).
        self._counts: dict[str, tuple[int, int]] = {}
        self._counting: set[asyncio.Task] = set()

    async def admit(self, client: str, cookie: str | None) -> Conversation:
        """The conversation of a message from `client`; `cookie` is the browser's
        conversation id if it is well formed, else None. Raises RateLimited."""
        if cookie is not None and self._may_go_ahead(client, cookie):
            task = asyncio.create_task(self._count(client, cookie))
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)
            return Conversation(cookie)
        new_id = new_conversation_id()
        admission = await self.store.admit(client, cookie, new_id, self.limits)
        self._learn(client, admission)
        if not admission.client.allowed:
            raise RateLimited(admission.client.retry_after)
        if admission.allowance is not None and not admission.allowance.allowed:
            raise RateLimited(admission.allowance.retry_after)
        if cookie is not None and admission.existed is None:
            # The store cannot tell: keep the cookie for when it is back.
            return Conversation(new_id, persistent=False)
        conversation = Conversation(admission.conversation or new_id)
        self._know(conversation.id)
        return conversation

    async def settled(self) -> None:
        """Wait for the counts still on their way to the store."""
        while self._counting:
            await asyncio.gather(*self._counting, return_exceptions=True)

    def _index(self) -> int:
        # The store's windows, so local and shared counts are of the same window.
        return fixed_window(self.limits.window, self.clock())[0]

    def _count_of(self, bucket: str, index: int) -> int:
        seen, count = self._counts.get(bucket, (index, 0))
        return count if seen == index else 0

    def _may_go_ahead(self, client: str, cid: str) -> bool:
        until = self._known.get(cid)
        if until is None or until < self.clock():
            return False
        index = self._index()
        buckets = {
            f"client:{client}": self.limits.client,
            f"conversation:{cid}": self.limits.conversation,
        }
        counts = {b: self._count_of(b, index) for b in buckets}
        # The message that may reach a limit waits for the store's count.
        if any(counts[b] + 1 >= limit for b, limit in buckets.items()):
            return False
        for bucket, count in counts.items():
            self._counts[bucket] = (index, count + 1)
        return True

    async def _count(self, client: str, cid: str) -> None:
        # The cookie's id is passed as the new id too: this process issued or
        # checked it, so if the store lost it (a Redis restart) it is made again.
        try:
            admission = await self.store.admit(client, cid, cid, self.limits)
        except Exception:  # the message is answered already; the next one retries
            log.exception("counting a message in the store failed")
            return
        self._learn(client, admission)
        if not (admission.client.allowed and admission.allowance and admission.allowance.allowed):
            log.info("a message went ahead and was then over a rate limit")

    def _know(self, cid: str) -> None:
        self._known[cid] = self.clock() + self.known_for
        self._known.move_to_end(cid)
        while len(self._known) > self.remember:
            self._known.popitem(last=False)

    def _learn(self, client: str, admission: Admission) -> None:
        index = self._index()
        if len(self._counts) > 5 * self.remember:  # old windows are never read again
            self._counts = {b: v for b, v in self._counts.items() if v[0] == index}
        learnt = [(f"client:{client}", admission.client)]
        if admission.conversation is not None and admission.allowance is not None:
            learnt.append((f"conversation:{admission.conversation}", admission.allowance))
        for bucket, allowance in learnt:
            count = max(allowance.count, self._count_of(bucket, index))
            self._counts[bucket] = (index, count)
