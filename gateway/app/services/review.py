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
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa

from app.core.config import Settings
from app.core.redis import Expiring, Shared, as_shared
from soudan.masking import mask
from staffops.inbox import Inbox
from staffops.records import feedback, turns

log = logging.getLogger(__name__)

THANKS = "ご意見ありがとうございました。"
THANKS_NEGATIVE = (
    "ご意見ありがとうございました。いただいた内容は、回答の改善に使わせていただきます。"
)


def thanks(helpful: bool) -> str:
    """The one-line answer to a feedback."""
    return THANKS if helpful else THANKS_NEGATIVE


class Review:
    def __init__(
        self,
        settings: Settings,
        redis: Shared | aioredis.Redis | None,
        records: sa.engine.Engine,
    ) -> None:
        self.shared = as_shared(redis, settings.REDIS_KEY_PREFIX, settings.REDIS_TIMEOUT)
        self.context_ttl = settings.FEEDBACK_CONTEXT_TTL
        self.records = records
        self.inbox = Inbox(records)
        # Contexts remembered while Redis failed (app.core.redis's fallback).
        self._contexts: Expiring[dict[str, Any]] = Expiring()

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

    def _key(self, conversation: str) -> str:
        return self.shared.key("fbctx", conversation)

    async def count_feedback(self, topic: str, helpful: bool, channel: str = "web") -> None:
        """One feedback row. Never raises: the person is thanked whatever happens."""
        try:
            await asyncio.to_thread(feedback.add, self.records, topic, helpful, channel)
        except Exception:
            log.exception("could not record a feedback")

    async def feedback_counts(self) -> dict[str, dict[str, int]]:
        """topic → {"helpful": n, "not_helpful": n}."""
        return await asyncio.to_thread(feedback.counts, self.records)

    async def remember_answer(
        self, conversation: str, context: dict[str, Any], *, masked: bool = False
    ) -> None:
        """The last answer with a topic, for one feedback (texts masked here,
        unless the caller did: `masked`)."""
        if not masked:
            done = {}
            for k in ("text", "reply"):
                if context.get(k):
                    done[k] = await asyncio.to_thread(mask, context[k])
            context = {**context, **done}
        key = self._key(conversation)
        await self.shared.run(
            "feedback context",
            lambda r: r.set(key, json.dumps(context, ensure_ascii=False), ex=self.context_ttl),
            lambda: self._contexts.put(key, context, self.context_ttl),
        )

    async def take_answer(self, conversation: str, topic: str) -> dict[str, Any] | None:
        """The remembered answer if it is about `topic`; it is forgotten (once per answer)."""
        key = self._key(conversation)
        context = self._contexts.pop(key)
        if context is None and self.shared.configured:
            raw = await self.shared.run("feedback context", lambda r: r.getdel(key), lambda: None)
            context = json.loads(raw) if raw else None
        if not context or context.get("topic") != topic:
            return None
        return context
