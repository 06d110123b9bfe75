"""Staff review from the channels: inbox items, feedback on answers, the turn log.

- `add_item`: a reply the assistant flagged (`meta.review`) or a 「役に立たなかった」
  goes into staffops' inbox (staffops.inbox.Inbox, in the records database:
  staffops.records), the user's text and the bot's reply masked by
  soudan.masking here and again by the inbox. It never raises: a reply never
  waits on or fails by the inbox.
- feedback: one row per answer judged (the records' `feedback` table), and
  the context of the last answer of a conversation (`<prefix>fbctx:<conversation>`
  in Redis, expiring, else this process's memory): its topic, and for LINE
  the masked user text and reply. Short-lived, so not a record. Feedback is
  taken once per answer: reading the context deletes it.
- `log_turn`: the masked log of each answered turn (staffops.records.turns),
  for the center's analytics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa
from redis.exceptions import RedisError

from app.core.config import Settings
from soudan.masking import mask
from staffops.inbox import Inbox
from staffops.records import feedback, turns

log = logging.getLogger(__name__)

REDIS_FAILURES = (RedisError, OSError, TimeoutError)
THANKS = "ご意見ありがとうございました。"
THANKS_NEGATIVE = (
    "ご意見ありがとうございました。いただいた内容は、回答の改善に使わせていただきます。"
)


def thanks(helpful: bool) -> str:
    """The one-line answer to a feedback."""
    return THANKS if helpful else THANKS_NEGATIVE


class Review:
    def __init__(
        self, settings: Settings, redis_async: aioredis.Redis | None, records: sa.engine.Engine
    ) -> None:
        self.prefix = settings.REDIS_KEY_PREFIX
        self.context_ttl = settings.FEEDBACK_CONTEXT_TTL
        self.redis = redis_async
        self.records = records
        self.inbox = Inbox(records)
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
                "intents": intents or [],
                "bot_reply": await asyncio.to_thread(mask, bot_reply),
                "reason": reason,
            }
            return await asyncio.to_thread(self.inbox.add, item)
        except Exception:  # the inbox never breaks a reply
            log.exception("could not add an inbox item")
            return None

    async def items(self, limit: int = 200) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.inbox.list, limit=limit)

    async def get_item(self, item_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.inbox.get, item_id)

    async def resolve(self, item_id: str, who: str, resolution: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self.inbox.resolve, item_id, who=who, resolution=resolution)

    # --- the turn log -----------------------------------------------------

    async def log_turn(self, *, channel: str, text: str, meta: Any) -> None:
        """One row of the masked turn log (meta: app.services.rasa.Meta). Never raises."""
        try:
            await asyncio.to_thread(
                turns.add,
                self.records,
                channel=channel,
                text=text,
                topic=meta.topic,
                intents=meta.intents,
                kind=meta.kind,
                review=meta.review,
                scam_type=meta.scam_type,
                prefixes=meta.prefixes,
            )
        except Exception:  # the log never breaks a reply
            log.exception("could not log a turn")

    # --- feedback ---------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def count_feedback(self, topic: str, helpful: bool, channel: str = "web") -> None:
        """One feedback row. Never raises: the person is thanked whatever happens."""
        try:
            await asyncio.to_thread(feedback.add, self.records, topic, helpful, channel)
        except Exception:
            log.exception("could not record a feedback")

    async def feedback_counts(self) -> dict[str, dict[str, int]]:
        """topic → {"helpful": n, "not_helpful": n}."""
        return await asyncio.to_thread(feedback.counts, self.records)

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
