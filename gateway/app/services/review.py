"""Staff review from the channels: inbox items and feedback on answers.

- `add_item`: a reply the assistant flagged (`meta.review`) or a 「役に立たなかった」
  goes into staffops' inbox (staffops.inbox.Inbox: Redis under the gateway's
  key prefix, each item expiring), the user's text and the bot's reply masked
  by soudan.masking here and again by the inbox. Without Redis, or when Redis
  fails, an inbox in this process's memory takes it (lost on restart). It
  never raises: a reply never waits on or fails by the inbox.
- feedback: per-topic counts (`<prefix>feedback:helpful` and
  `<prefix>feedback:not_helpful`, Redis hashes topic → count), and the context
  of the last answer of a conversation (`<prefix>fbctx:<conversation>`,
  expiring): its topic, and for LINE the masked user text and reply. Feedback
  is taken once per answer: reading the context deletes it.

The inbox in memory (`MemoryInbox`) is a thin adapter of this gateway with
the methods of staffops' Inbox that the admin pages use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.core.config import Settings
from soudan.masking import mask
from staffops import audit
from staffops.inbox import Inbox, clean_item

log = logging.getLogger(__name__)

REDIS_FAILURES = (RedisError, OSError, TimeoutError)
THANKS = "ご意見ありがとうございました。"
THANKS_NEGATIVE = (
    "ご意見ありがとうございました。いただいた内容は、回答の改善に使わせていただきます。"
)


def thanks(helpful: bool) -> str:
    """The one-line answer to a feedback."""
    return THANKS if helpful else THANKS_NEGATIVE


MAX_MEMORY_ITEMS = 1000


class MemoryInbox:
    """staffops' Inbox in this process's memory (no Redis configured, or Redis down)."""

    def __init__(self, ttl_days: float) -> None:
        self.ttl = ttl_days * 86400
        self.items: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        # `add` runs in a worker thread (it masks the texts again).
        self.lock = threading.RLock()

    def _expire(self) -> None:
        now = time.time()
        for item_id in [i for i, (t, _) in self.items.items() if t < now]:
            del self.items[item_id]
        while len(self.items) > MAX_MEMORY_ITEMS:
            self.items.popitem(last=False)

    def add(self, item: dict[str, Any]) -> dict[str, Any]:
        clean = clean_item(item)
        with self.lock:
            self.items[clean["id"]] = (time.time() + self.ttl, clean)
            self._expire()
        return clean

    def get(self, item_id: str) -> dict[str, Any] | None:
        with self.lock:
            self._expire()
            found = self.items.get(item_id)
            return dict(found[1]) if found else None

    def list(self, *, include_resolved: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        with self.lock:
            self._expire()
            items = [i for _, i in reversed(self.items.values())]
        if not include_resolved:
            items = [i for i in items if i["status"] == "open"]
        return [dict(i) for i in items[:limit]]

    def resolve(self, item_id: str, *, who=None, resolution=None) -> dict[str, Any]:
        with self.lock:
            found = self.items.get(item_id)
            if found is None:
                raise KeyError(f"no inbox item {item_id!r}")
            found[1].update(
                status="resolved", resolved_by=who, resolved_at=audit.now(), resolution=resolution
            )
            return dict(found[1])

    def count(self) -> int:
        return len(self.list())


class Review:
    def __init__(self, settings: Settings, redis_async: aioredis.Redis | None) -> None:
        self.prefix = settings.REDIS_KEY_PREFIX
        self.context_ttl = settings.FEEDBACK_CONTEXT_TTL
        self.redis = redis_async
        self.memory_inbox = MemoryInbox(settings.INBOX_TTL_DAYS)
        self.inbox: Inbox | None = None
        if settings.REDIS_URL:
            client = redis.Redis.from_url(
                settings.REDIS_URL,
                decode_responses=True,
                socket_timeout=max(settings.REDIS_TIMEOUT, 2.0),
                socket_connect_timeout=max(settings.REDIS_TIMEOUT, 2.0),
            )
            self.inbox = Inbox(client, prefix=self.prefix, ttl_days=settings.INBOX_TTL_DAYS)
        self._counts: dict[str, dict[str, int]] = {"helpful": {}, "not_helpful": {}}
        self._contexts: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    # --- inbox ------------------------------------------------------------

    async def add_item(
        self,
        *,
        text: str,
        channel: str,
        reason: str,
        intents: list[dict[str, Any]] | None = None,
        bot_reply: str = "",
    ) -> dict[str, Any] | None:
        """Put a message into the staff inbox, masked; None when it could not.

        Masking (soudan.masking: rules and GiNZA's named entities, the model
        loaded on the first call) runs in a worker thread, never in the
        event loop that answers people."""
        try:
            item = {
                "text": await asyncio.to_thread(mask, text),
                "channel": channel,
                "time": audit.now(),
                "intents": intents or [],
                "bot_reply": await asyncio.to_thread(mask, bot_reply),
                "reason": reason,
            }
            if self.inbox is not None:
                try:
                    return await asyncio.to_thread(self.inbox.add, item)
                except REDIS_FAILURES as exc:
                    log.warning("inbox in Redis failed (%s): kept in memory", exc)
            return await asyncio.to_thread(self.memory_inbox.add, item)
        except Exception:  # the inbox never breaks a reply
            log.exception("could not add an inbox item")
            return None

    async def call_inbox(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """An Inbox method (list, get, resolve, count) on Redis, else memory."""
        if self.inbox is not None:
            try:
                return await asyncio.to_thread(getattr(self.inbox, name), *args, **kwargs)
            except REDIS_FAILURES as exc:
                log.warning("inbox in Redis failed (%s): this process's memory answers", exc)
        return getattr(self.memory_inbox, name)(*args, **kwargs)

    async def items(self, limit: int = 200) -> list[dict[str, Any]]:
        items = await self.call_inbox("list", limit=limit)
        if self.inbox is not None:  # items kept in memory while Redis was down
            seen = {i["id"] for i in items}
            items += [i for i in self.memory_inbox.list(limit=limit) if i["id"] not in seen]
        return items

    async def get_item(self, item_id: str) -> dict[str, Any] | None:
        item = await self.call_inbox("get", item_id)
        return item or self.memory_inbox.get(item_id)

    async def resolve(self, item_id: str, who: str, resolution: Any) -> dict[str, Any]:
        if self.memory_inbox.get(item_id) is not None:
            return self.memory_inbox.resolve(item_id, who=who, resolution=resolution)
        return await self.call_inbox("resolve", item_id, who=who, resolution=resolution)

    # --- feedback ---------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def count_feedback(self, topic: str, helpful: bool) -> None:
        kind = "helpful" if helpful else "not_helpful"
        if self.redis is not None:
            try:
                await self.redis.hincrby(self._key(f"feedback:{kind}"), topic, 1)
                return
            except REDIS_FAILURES as exc:
                log.warning("feedback count in Redis failed (%s): counted in memory", exc)
        counts = self._counts[kind]
        counts[topic] = counts.get(topic, 0) + 1

    async def feedback_counts(self) -> dict[str, dict[str, int]]:
        """topic → {"helpful": n, "not_helpful": n} (Redis and this process's memory)."""
        found: dict[str, dict[str, int]] = {}
        for kind in ("helpful", "not_helpful"):
            counts = dict(self._counts[kind])
            if self.redis is not None:
                try:
                    stored = await self.redis.hgetall(self._key(f"feedback:{kind}"))
                except REDIS_FAILURES:
                    stored = {}
                for topic, n in stored.items():
                    counts[topic] = counts.get(topic, 0) + int(n)
            for topic, n in counts.items():
                found.setdefault(topic, {"helpful": 0, "not_helpful": 0})[kind] = n
        return dict(sorted(found.items()))

    async def remember_answer(self, conversation: str, context: dict[str, Any]) -> None:
        """The last answer with a topic, for one feedback (texts masked here)."""
        masked = {}
        for k in ("text", "reply"):
            if context.get(k):
                masked[k] = await asyncio.to_thread(mask, context[k])
        context = {**context, **masked}
        key = self._key(f"fbctx:{conversation}")
        if self.redis is not None:
            try:
                await self.redis.set(
                    key, json.dumps(context, ensure_ascii=False), ex=self.context_ttl
                )
                return
            except REDIS_FAILURES as exc:
                log.warning("feedback context in Redis failed (%s): kept in memory", exc)
        self._contexts[key] = (time.monotonic() + self.context_ttl, context)
        self._contexts.move_to_end(key)
        while len(self._contexts) > 10_000:
            self._contexts.popitem(last=False)

    async def take_answer(self, conversation: str, topic: str) -> dict[str, Any] | None:
        """The remembered answer if it is about `topic`; it is forgotten (once per answer)."""
        key = self._key(f"fbctx:{conversation}")
        found = self._contexts.pop(key, None)
        context = found[1] if found and found[0] > time.monotonic() else None
        if context is None and self.redis is not None:
            try:
                raw = await self.redis.getdel(key)
            except REDIS_FAILURES:
                raw = None
            context = json.loads(raw) if raw else None
        if not context or context.get("topic") != topic:
            return None
        return context

    async def close(self) -> None:
        if self.inbox is not None:
            await asyncio.to_thread(self.inbox.redis.close)
