"""LINE webhook events, answered by the same Rasa assistant as the web chat.

The webhook route verifies the signature and hands the events here; it
answers 200 at once and the events are handled in background tasks:

- claimed once by `webhookEventId` (a redelivery is not answered twice);
- a text or a quick-reply postback goes to Rasa, with a loading animation
  while it thinks; the answer becomes at most five LINE messages;
- the reply token is used once and only while it is fresh; otherwise, or
  when LINE refuses it, the answer goes by push with `X-Line-Retry-Key`
  (derived from the event id, so a repeated push is dropped by LINE);
- an event that failed half way is tried again, and what is still pending
  is answered by push by `recover` (at start-up and then every so often);
- follow: the greeting and the menu; unfollow: the conversation is
  forgotten; stickers, images...: a polite "text only" with the menu;
  groups and rooms: only when the bot is mentioned (or joins), to say it is
  for one-to-one use.

The conversation id given to Rasa is an HMAC of the LINE user id, so logs and
Rasa's tracker store never show the user id.

Poison events are never retried forever: an event the SDK cannot read (a
type it does not know, a signed but malformed event such as a text that is
null or a user source without a user id) is acknowledged and parked at once
in the dead letters (retrying cannot change it); any other failure is tried
again, by this task and then by `recover`, until LINE_MAX_ATTEMPTS tries in
all, and then parked. Staff see the dead letters on /admin/line/dead-letters.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from linebot.v3 import WebhookParser
from linebot.v3.messaging import (
    ApiException,
    AsyncMessagingApi,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from app.models import BotMessage, Button
from app.services import line_replies, replies
from app.services.dead_letters import DeadLetters
from app.services.line_ledger import EventLedger, Pending
from app.services.line_messages import MAX_POSTBACK_DATA, MAX_QUICK_REPLIES, to_line
from app.services.rasa import Answer, RasaClient, RasaUnavailable
from app.services.review import Review, thanks
from app.services.turns import Turns
from soudan.masking import mask

log = logging.getLogger(__name__)

# LINE accepts a reply token for about a minute after the event; past this
# many seconds the answer goes by push instead.
REPLY_TOKEN_SECONDS = 50
# Tries of one event in its background task; what still fails is left to
# `recover`, until the event's tries reach LINE_MAX_ATTEMPTS.
ATTEMPTS = 3
# LINE ids: "U" (a user) and 32 hex digits.
USER_ID = re.compile(r"U[0-9a-f]{32}")
# `recover` picks up events pending for longer than this (their task has died).
STALE_SECONDS = 60
# Seconds the loading animation shows at most (LINE: 5 to 60, by 5).
LOADING_SECONDS = 20
# What a follow event says to the assistant: its greeting and menu.
GREETING = "/greet"
RETRY_KEY_NAMESPACE = uuid.UUID("6f1c0f5e-3c1b-4d5e-9a3c-1f2e3d4c5b6a")
# Postback data of the feedback quick replies: `feedback:1:<topic>` (helpful)
# or `feedback:0:<topic>`; answered by the gateway, never sent to Rasa.
FEEDBACK_PREFIX = "feedback:"
FEEDBACK_TITLES = {True: "役に立った", False: "役に立たなかった"}


def feedback_buttons(topic: str) -> list[Button]:
    buttons = []
    for helpful in (True, False):
        data = f"{FEEDBACK_PREFIX}{int(helpful)}:{topic}"
        if len(data) <= MAX_POSTBACK_DATA:
            buttons.append(Button(title=FEEDBACK_TITLES[helpful], payload=data))
    return buttons


def with_feedback(messages: list[BotMessage], topic: str) -> list[BotMessage]:
    """The answer with the two feedback quick replies on its last message,
    when they fit in LINE's 13 quick-reply items (the feedback ones go first)."""
    payloads = {b.payload for m in messages for b in m.buttons}
    if not messages or len(payloads) + 2 > MAX_QUICK_REPLIES:
        return messages
    last = messages[-1]
    return [
        *messages[:-1],
        last.model_copy(update={"buttons": [*last.buttons, *feedback_buttons(topic)]}),
    ]


def parse_feedback(data: str) -> tuple[bool, str] | None:
    if not data.startswith(FEEDBACK_PREFIX):
        return None
    flag, _, topic = data[len(FEEDBACK_PREFIX) :].partition(":")
    if flag not in {"0", "1"} or not topic:
        return None
    return flag == "1", topic


def conversation_id(secret: str, user_id: str) -> str:
    """Stable per LINE user, and says nothing about the user id itself."""
    digest = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    return f"line-{digest[:40]}"


def retry_key(event_id: str) -> str:
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, event_id))


class PoisonEvent(Exception):
    """An event that no retry can handle; `reason` is a dead-letter reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_event(raw: dict[str, Any]) -> Event:
    """The SDK's event, or PoisonEvent: a type the SDK does not know, or a
    malformed event. The SDK's own error carries the whole event (user id
    and text): it is not chained, so no traceback shows it."""
    try:
        return Event.from_dict(raw)
    except (ValueError, TypeError, KeyError, AttributeError):
        known = isinstance(raw.get("type"), str) and _known_type(raw["type"])
        reason = "unreadable" if known else "unknown_type"
    raise PoisonEvent(reason)


def _known_type(kind: str) -> bool:
    mapping = getattr(Event, "_Event__discriminator_value_class_map", {})
    return kind in mapping


def _event_text(raw: dict[str, Any]) -> str:
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    postback = raw.get("postback") if isinstance(raw.get("postback"), dict) else {}
    for value in (message.get("text"), postback.get("data")):
        if isinstance(value, str):
            return value[:1000]
    return ""


def dead_letter(event_id: str, pending: Pending, reason: str) -> dict[str, Any]:
    """What is kept of a parked event: no user id, the text masked."""
    raw = pending.event if isinstance(pending.event, dict) else {}
    kind = raw.get("type") if isinstance(raw.get("type"), str) else ""
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    return {
        "event_id": str(event_id)[:64],
        "type": re.sub(r"[^A-Za-z]", "", kind)[:40],
        "message_type": re.sub(r"[^A-Za-z]", "", str(message.get("type") or ""))[:40],
        "source_type": re.sub(r"[^A-Za-z]", "", str(source.get("type") or ""))[:20],
        "reason": reason,
        "attempts": pending.attempts,
        "received_at": pending.received_at,
        "text": mask(_event_text(raw)),
    }


class LineBot:
    def __init__(
        self,
        api: AsyncMessagingApi,
        rasa: RasaClient,
        ledger: EventLedger,
        secret: str,
        forget: Callable[[str], Any] | None = None,
        concurrency: int = 8,
        clock: Callable[[], float] = time.time,
        review: Review | None = None,
        dead_letters: DeadLetters | None = None,
        max_attempts: int = 5,
        turns: Turns | None = None,
    ) -> None:
        self.parser = WebhookParser(secret)
        self.api = api
        self.rasa = rasa
        self.ledger = ledger
        self.secret = secret
        self.forget = forget  # async (conversation id) -> None
        self.clock = clock
        self.review = review
        # What is recorded after a reply, as for the web chat (app.services.turns).
        self.turns = turns
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        self.limit = asyncio.Semaphore(concurrency)
        self.tasks: set[asyncio.Task] = set()
        self.in_hand: set[str] = set()  # event ids with a task in this process

    # --- intake ---------------------------------------------------------

    async def accept(self, events: list[dict[str, Any]]) -> int:
        """Claim each new event and handle it in the background; returns how
        many were new. Called by the webhook before it answers 200."""
        received_at = self.clock()
        batch = []
        for raw in events:
            event_id = raw.get("webhookEventId")
            if isinstance(event_id, str) and 0 < len(event_id) <= 64:
                batch.append((event_id, Pending(raw, received_at)))
        # One Redis round trip for them all, bounded by LINE_REDIS_TIMEOUT.
        claimed = await self.ledger.claim_all(batch)
        new = 0
        for (event_id, pending), first in zip(batch, claimed, strict=True):
            if not first:
                log.info("LINE event %s already seen: not answered again", event_id)
                continue
            new += 1
            self._spawn(event_id, pending)
        return new

    def _spawn(self, event_id: str, pending: Pending) -> None:
        task = asyncio.create_task(self.process(event_id, pending))
        self.tasks.add(task)
        self.in_hand.add(event_id)

        def finished(task: asyncio.Task) -> None:
            self.tasks.discard(task)
            self.in_hand.discard(event_id)

        task.add_done_callback(finished)

    async def drain(self) -> None:
        """Wait for every event in hand (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def recover(self) -> int:
        """Answer, by push, the events left pending by a task that died;
        returns how many this call took up (each event by one caller only)."""
        taken = 0
        for event_id, pending in (await self.ledger.pending()).items():
            if self.clock() - pending.received_at <= STALE_SECONDS or event_id in self.in_hand:
                continue
            if not await self.ledger.lease(event_id, STALE_SECONDS):
                continue  # another process or round has it
            if pending.attempts >= self.max_attempts:
                await self.park(event_id, pending, "failed")
                continue
            log.warning("LINE event %s was left pending: answering it now", event_id)
            self._spawn(event_id, pending)
            taken += 1
        return taken

    # --- one event ------------------------------------------------------

    async def process(self, event_id: str, pending: Pending) -> None:
        async with self.limit:
            for attempt in range(ATTEMPTS):
                try:
                    await self.handle(event_id, pending)
                except PoisonEvent as poison:
                    pending.attempts += 1
                    await self.park(event_id, pending, poison.reason)
                    return
                except Exception:  # any failure: try again, then leave it pending
                    log.exception("LINE event %s failed (attempt %d)", event_id, attempt + 1)
                    pending.attempts += 1
                    if pending.attempts >= self.max_attempts:
                        await self.park(event_id, pending, "failed")
                        return
                    await self.ledger.save(event_id, pending)
                    await asyncio.sleep(0.2 * 2**attempt)
                    continue
                await self.ledger.done(event_id)
                return

    async def park(self, event_id: str, pending: Pending, reason: str) -> None:
        """Acknowledge an event for good: into the dead letters, out of the pending ones."""
        log.warning("LINE event %s parked as a dead letter (%s)", event_id, reason)
        try:
            record = await asyncio.to_thread(dead_letter, event_id, pending, reason)
            if self.dead_letters is not None:
                await self.dead_letters.add(record)
        except Exception:  # parking never keeps an event alive
            log.exception("LINE event %s could not be recorded as a dead letter", event_id)
        await self.ledger.done(event_id)

    async def handle(self, event_id: str, pending: Pending) -> None:
        if not isinstance(pending.event, dict):
            raise PoisonEvent("unreadable")
        event = read_event(pending.event)
        source = getattr(event, "source", None)
        if isinstance(source, UserSource) and not (
            isinstance(source.user_id, str) and USER_ID.fullmatch(source.user_id)
        ):
            raise PoisonEvent("no_user")
        if isinstance(event, UnfollowEvent):
            if isinstance(source, UserSource) and self.forget:
                await self.forget(conversation_id(self.secret, source.user_id))
            return
        if isinstance(source, GroupSource | RoomSource):
            if isinstance(event, JoinEvent) or _mentions_the_bot(event):
                await self._send(event, event_id, pending, line_replies.one_to_one())
            return
        if not isinstance(source, UserSource):
            return
        if isinstance(event, FollowEvent):
            text = GREETING
        elif isinstance(event, PostbackEvent) and parse_feedback(event.postback.data or ""):
            if pending.answer is None:
                helpful, topic = parse_feedback(event.postback.data)  # type: ignore[misc]
                cid = conversation_id(self.secret, source.user_id)
                thanks = await self._feedback(cid, topic, helpful)
                pending.answer = [m.to_dict() for m in to_line(thanks)]
                await self.ledger.save(event_id, pending)
            await self._deliver(event, event_id, pending)
            return
        elif isinstance(event, PostbackEvent):
            text = event.postback.data
        elif isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            text = event.message.text
        elif isinstance(event, MessageEvent):
            if self.turns is not None:
                # A sticker after an answer (a thank-you, often) is the person
                # still there: that answer was not abandoned.
                await self.turns.continued(conversation_id(self.secret, source.user_id))
            await self._send(event, event_id, pending, line_replies.not_text())
            return
        else:
            return
        if pending.answer is None:
            await self._loading(source.user_id)
            messages = await self._ask(conversation_id(self.secret, source.user_id), text)
            pending.answer = [m.to_dict() for m in to_line(messages)]
            await self.ledger.save(event_id, pending)  # a retry must not ask Rasa again
        await self._deliver(event, event_id, pending)

    async def _ask(self, cid: str, text: str) -> list[BotMessage]:
        try:
            answer = await self.rasa.ask(cid, text)
        except RasaUnavailable as exc:
            log.warning("Rasa could not answer a LINE message: %s", exc)
            return replies.unavailable()
        if not answer.messages:
            return replies.unreadable()
        return await self._review(cid, text, answer)

    async def _review(self, cid: str, text: str, answer: Answer) -> list[BotMessage]:
        """The turn recorded (inbox, feedback context, turn log, signals);
        the feedback quick replies when the answer has a topic."""
        if self.turns is None or answer.meta is None:
            return answer.messages
        rated = await self.turns.answered(
            channel="line", conversation=cid, text=text, answer=answer
        )
        if rated and answer.meta.topic:
            return with_feedback(answer.messages, answer.meta.topic)
        return answer.messages

    async def _feedback(self, cid: str, topic: str, helpful: bool) -> list[BotMessage]:
        if self.review is not None:
            try:
                context = await self.review.take_answer(cid, topic)
                if context is not None:
                    await self.review.count_feedback(topic, helpful, "line")
                    if self.turns is not None:
                        await self.turns.feedback_given(cid)
                    last = (await self.turns.last(cid) if self.turns else None) or {}
                    if last.get("topic") == topic:
                        context = {**last, **context}
                    if not helpful and context.get("text"):
                        await self.review.add_item(
                            text=context["text"],
                            channel="line",
                            reason="feedback_negative",
                            intents=context.get("intents"),
                            bot_reply=context.get("reply", ""),
                        )
            except Exception:
                log.exception("LINE feedback could not be recorded")
        return [BotMessage(text=thanks(helpful))]

    async def _loading(self, user_id: str) -> None:
        try:
            await self.api.show_loading_animation(
                ShowLoadingAnimationRequest(chatId=user_id, loadingSeconds=LOADING_SECONDS)
            )
        except Exception as exc:  # a nicety: never block the answer
            log.info("loading animation not shown: %s", exc)

    async def _send(
        self, event: Event, event_id: str, pending: Pending, messages: list[BotMessage]
    ) -> None:
        pending.answer = [m.to_dict() for m in to_line(messages)]
        await self._deliver(event, event_id, pending)

    async def _deliver(self, event: Event, event_id: str, pending: Pending) -> None:
        messages = [Message.from_dict(m) for m in pending.answer or []]
        if not messages:
            return
        token = getattr(event, "reply_token", None)
        if token and self.clock() - pending.received_at < REPLY_TOKEN_SECONDS:
            # Used once: never again, whatever happens next.
            pending.event = {**pending.event, "replyToken": None}
            await self.ledger.save(event_id, pending)
            try:
                await self.api.reply_message(
                    ReplyMessageRequest(replyToken=token, messages=messages)
                )
                return
            except ApiException as exc:
                if exc.status != 400:
                    raise
                log.info("reply token refused (%s): answering by push", exc.reason)
        await self._push(event, event_id, messages)

    async def _push(self, event: Event, event_id: str, messages: list[Message]) -> None:
        source = event.source
        to = getattr(source, "user_id", None)
        if isinstance(source, GroupSource):
            to = source.group_id
        elif isinstance(source, RoomSource):
            to = source.room_id
        try:
            await self.api.push_message(
                PushMessageRequest(to=to, messages=messages), x_line_retry_key=retry_key(event_id)
            )
        except ApiException as exc:
            if exc.status != 409:  # 409: LINE already accepted this retry key
                raise


def _mentions_the_bot(event: Event) -> bool:
    if not isinstance(event, MessageEvent) or not isinstance(event.message, TextMessageContent):
        return False
    mention = event.message.mention
    return bool(mention and any(getattr(m, "is_self", False) for m in mention.mentionees))
