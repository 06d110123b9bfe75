"""One turn service for the web chat and LINE: what is recorded after each
bot reply, the same way on both channels.

After a reply (`answered`):
- the masked turn log (Review.log_turn);
- the inbox item when the assistant flagged the answer (`meta.review`);
- a misroute: 「違う」, 「そうじゃなくて」 or a typed 「役に立たなかった」 right
  after an answer puts *that* answer (the question, the reply, its intents,
  masked) into the inbox with reason "misroute", in place of the flag the
  assistant gave the complaint itself (one item per miss);
- the feedback context of an answer with a topic (Review.remember_answer);
- the conversation's last answer (`<prefix>turn:<id>`, masked, expiring with
  the feedback context), so the next turn can tell a misroute and whether
  it is the first question;
- an answer that may be abandoned: a confident answer (kind "answer", no
  review flag, not urgent) to the conversation's first question is pending
  (`<prefix>abandon:<id>`, and its due time in `<prefix>abandon:due`, both
  expiring soon after) until the person writes again or gives feedback. A
  periodic `sweep` (app.core.lifespan) puts those still pending
  ABANDONED_AFTER seconds later into the inbox with reason "abandoned".

Redis when configured, this process's memory otherwise (app.core.redis).
Nothing here ever breaks a reply: failures are logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from app.core.redis import Expiring, Shared
from app.services.rasa import Answer
from app.services.review import Review
from soudan.masking import mask

log = logging.getLogger(__name__)

# Typed right after an answer: the answer missed. The assistant itself marks
# 「違う」「そうじゃなくて」 (soudan.turn); a typed 「役に立たなかった」 is the
# gateway's to notice (the button of the same words is feedback).
# A bare complaint is the whole message (「違う番号から…」「役に立たないアプリを入れろと
# 言われた」「そうじゃないかと思うんですが…」 are questions of their own);
# only 「そうじゃなくて、…」 goes on, with what the person meant.
_END = r"(?:よ|です|ですよ|んです|んだけど|けど|な|ね)?[。！!？?…、,\s]*"
BARE = re.compile(
    r"\s*(?:役に?立たな(?:かった|い)|やくにたたな(?:かった|い)|役に?立ってない|全然違う|"
    r"違う|違います|ちがう|ちがいます|そうじゃない|そういうことじゃない|そういうことではない)"
    + _END
)
GOES_ON = re.compile(r"\s*(?:そうじゃなくて|そういうことじゃなくて|そうではなくて).*", re.DOTALL)
# The assistant's own flags that a misroute item replaces.
REPLACED = {"misroute", "fallback", "low_confidence", "two_misses"}
# A button's payload (「/greet」) is not something the person wrote.
PAYLOAD = "/"
# Keys of the abandoned answers pending, kept this long past their due time.
PENDING_MARGIN = 3600
SWEEP_BATCH = 100


def is_misroute(text: str) -> bool:
    return bool(BARE.fullmatch(text or "") or GOES_ON.fullmatch(text or ""))


def confident(answer: Answer) -> bool:
    meta = answer.meta
    return bool(
        meta is not None
        and answer.messages
        and meta.kind == "answer"
        and not meta.review
        and not meta.urgent
    )


class Turns:
    def __init__(
        self,
        review: Review,
        shared: Shared,
        *,
        abandoned_after: float = 1800,
        remember_for: int = 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.review = review
        self.shared = shared
        self.abandoned_after = abandoned_after
        self.remember_for = remember_for
        self.clock = clock
        # The memory side of app.core.redis's fallback.
        self._last: Expiring[dict[str, Any]] = Expiring()
        self._pending: Expiring[dict[str, Any]] = Expiring()

    # --- after a reply -----------------------------------------------------

    async def answered(self, *, channel: str, conversation: str, text: str, answer: Answer) -> bool:
        """Record a turn; True when the answer takes feedback (it has a topic).
        Never raises."""
        meta = answer.meta
        try:
            previous = await self.last(conversation)
            if previous is not None and previous.get("pending"):
                # The person wrote again, whatever the reply: not abandoned.
                # Only then: a round trip saved on every other turn.
                await self.continued(conversation)
                await self._put_last(conversation, {**previous, "pending": False})
            if meta is None or not answer.messages:
                return False
            typed = not text.startswith(PAYLOAD)
            if meta.topic:
                # First, and quick (no masking, no database): nobody presses a
                # feedback button before the answer is on the screen.
                context = {"topic": meta.topic, "intents": meta.intents}
                await self.review.remember_answer(conversation, context, masked=True)
            signal = typed and (is_misroute(text) or meta.review == "misroute")
            # One item per miss: an answer already reported is not reported again.
            report = signal and previous is not None and not previous.get("reported")
            if report:
                # The answer that missed; a button's question is the complaint's.
                missed = previous if previous.get("text") else {**previous, "text": text}
                await self._inbox(missed, channel, "misroute")
                await self._put_last(conversation, {**previous, "reported": True, "pending": False})
            # The next answer to judge, before the database writes: a feedback
            # click or a next message may come as soon as the answer is shown.
            # Greetings, menus, fallbacks: the last answer stays the one to
            # judge, and the question count does not move.
            if meta.kind == "answer":
                last = {
                    "text": await asyncio.to_thread(mask, text) if typed else "",
                    "reply": await asyncio.to_thread(mask, answer.text),
                    "intents": meta.intents,
                    "topic": meta.topic,
                    "channel": channel,
                    "asked": (previous or {}).get("asked", 0) + (1 if typed else 0),
                }
                pend = confident(answer) and typed and last["asked"] == 1
                await self._put_last(conversation, {**last, "pending": pend})
                if pend:
                    await self._pend(conversation, last)
            # A bare complaint's own flag is the misroute; 「そうじゃなくて、…」 with
            # what was meant keeps its flag, for staff to see what was asked.
            replaced = (
                signal
                and previous is not None
                and (BARE.fullmatch(text or "") is not None or meta.review == "misroute")
            )
            if not (replaced and meta.review in REPLACED):
                await self._flagged(channel, text, answer)
            await self.review.log_turn(channel=channel, text=text, meta=meta)
            return bool(meta.topic)
        except Exception:  # bookkeeping never breaks a reply
            log.exception("recording a %s turn failed", channel)
            return False

    async def unremembered(self, *, channel: str, text: str, answer: Answer) -> None:
        """A turn of a one-off conversation: its log and the assistant's flag only."""
        meta = answer.meta
        if meta is None or not answer.messages:
            return
        await self._flagged(channel, text, answer)
        await self.review.log_turn(channel=channel, text=text, meta=meta)

    async def _flagged(self, channel: str, text: str, answer: Answer) -> None:
        """The inbox item of a turn the assistant flagged (meta.review)."""
        meta = answer.meta
        if meta is not None and meta.review:
            await self.review.add_item(
                text=text,
                channel=channel,
                reason=meta.review,
                intents=meta.intents,
                bot_reply=answer.text,
            )

    async def continued(self, conversation: str) -> None:
        """The person wrote again or gave feedback: nothing was abandoned."""
        key = self.shared.key("abandon", conversation)
        due = self.shared.key("abandon", "due")

        async def remote(redis: Any) -> None:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.zrem(due, conversation)
                pipe.delete(key)
                await pipe.execute()

        self._pending.pop(conversation)
        await self.shared.run("abandoned answer", remote, lambda: None)

    async def feedback_given(self, conversation: str) -> None:
        await self.continued(conversation)

    # --- the abandoned answers ---------------------------------------------

    async def _pend(self, conversation: str, last: dict[str, Any]) -> None:
        due_at = self.clock() + self.abandoned_after
        record = {**last, "due": due_at}
        ttl = int(self.abandoned_after + PENDING_MARGIN)
        key = self.shared.key("abandon", conversation)
        due = self.shared.key("abandon", "due")

        async def remote(redis: Any) -> None:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(key, json.dumps(record, ensure_ascii=False), ex=ttl)
                pipe.zadd(due, {conversation: due_at})
                pipe.expire(due, ttl)
                await pipe.execute()

        await self.shared.run(
            "abandoned answer", remote, lambda: self._pending.put(conversation, record, ttl)
        )

    async def sweep(self) -> int:
        """Put every answer pending past its due time into the inbox, each by
        one process only (whoever removes it from the due set). Returns how many."""
        now = self.clock()
        found: list[dict[str, Any]] = []
        for conversation, record in list(self._pending.live()):
            if record["due"] <= now:
                self._pending.pop(conversation)
                found.append(record)

        async def remote(redis: Any) -> list[dict[str, Any]]:
            due = self.shared.key("abandon", "due")
            taken = []
            names = await redis.zrangebyscore(due, "-inf", now, start=0, num=SWEEP_BATCH)
            for conversation in names:
                if not await redis.zrem(due, conversation):
                    continue  # another process took it
                raw = await redis.getdel(self.shared.key("abandon", conversation))
                if raw:
                    taken.append(json.loads(raw))
            return taken

        found += await self.shared.run("abandoned sweep", remote, list)
        for record in found:
            await self._inbox(record, record.get("channel", "web"), "abandoned")
        return len(found)

    # --- the last answer ---------------------------------------------------

    async def last(self, conversation: str) -> dict[str, Any] | None:
        """The conversation's last answer: masked question and reply, intents, topic."""
        key = self.shared.key("turn", conversation)
        local = self._last.get(conversation)
        if not self.shared.configured:
            return local
        # Redis first: this process's memory holds only what was written while
        # Redis failed, and is dropped by the next write that reaches Redis.
        raw = await self.shared.run("last answer", lambda r: r.get(key), lambda: None)
        return json.loads(raw) if raw else local

    async def _put_last(self, conversation: str, last: dict[str, Any]) -> None:
        key = self.shared.key("turn", conversation)

        async def remote(redis: Any) -> None:
            await redis.set(key, json.dumps(last, ensure_ascii=False), ex=self.remember_for)
            self._last.pop(conversation)

        await self.shared.run(
            "last answer", remote, lambda: self._last.put(conversation, last, self.remember_for)
        )

    async def _inbox(self, record: dict[str, Any], channel: str, reason: str) -> None:
        # The texts were masked when the answer was remembered; the inbox
        # masks again on `add` whatever the caller did.
        await self.review.add_item(
            text=record.get("text") or "",
            channel=channel,
            reason=reason,
            intents=record.get("intents"),
            bot_reply=record.get("reply") or "",
        )
