"""Talk to Rasa's REST channel, with several Rasa servers behind one gateway.

A conversation goes first to the server its id hashes to, so its messages
take the same way while every server is up; when that one does not accept
the connection (stopped, restarting), the next one in the list takes the
message. With the tracker and lock stores in Redis, any server continues
any conversation. A server that accepted the message but was slow or broke
off is not asked again: it may have processed the message already.

The hop goes over aiohttp (installed anyway for the LINE SDK): on this path
it costs a fraction of httpx's time, which matters when the gateway's own
share of an answer is held to 10 % of Rasa's (see docs/measurements.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from app.models import BotMessage, Button

log = logging.getLogger(__name__)

# Refused or unreachable before the message was sent: safe to try the next
# server. (aiohttp's connect timeout also covers waiting for a pooled connection.)
NOT_DELIVERED = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Anything else after that point: the server may have the message.
FAILED = (aiohttp.ClientError, asyncio.TimeoutError)
# Answers that a proxy or a server gives before handling anything.
TRY_NEXT_STATUS = {502, 503, 504}


class RasaUnavailable(RuntimeError):
    """No Rasa server answered the message."""


def route(urls: list[str], conversation_id: str) -> list[str]:
    """The servers to try for a conversation, in order."""
    digest = hashlib.sha256(conversation_id.encode()).digest()
    start = int.from_bytes(digest[:8], "big") % len(urls)
    return urls[start:] + urls[:start]


@dataclass(frozen=True)
class Meta:
    """What the assistant says about its answer (the `custom.meta` item): the
    topic answered, the top intents, and why staff should look at it."""

    topic: str | None = None
    intents: list[dict[str, Any]] = field(default_factory=list)
    review: str | None = None
    # The answer's second text message is the 「くわしく」 part of the first.
    details: bool = False
    # For the turn log: the answer's kind (answer, fallback, ...), its scam
    # type, and the number beginnings asked about.
    kind: str | None = None
    scam_type: str | None = None
    prefixes: list[str] = field(default_factory=list)
    # A crime in progress: answered with the police number first.
    urgent: bool = False


@dataclass(frozen=True)
class Answer:
    messages: list[BotMessage]
    meta: Meta | None = None

    @property
    def text(self) -> str:
        """The whole answer as one text (for staff), details included."""
        return "\n\n".join(part for m in self.messages for part in (m.text, m.details) if part)


def to_meta(item: Any) -> Meta | None:
    custom = item.get("custom") if isinstance(item, dict) else None
    meta = custom.get("meta") if isinstance(custom, dict) else None
    if not isinstance(meta, dict):
        return None
    topic = meta.get("topic") if isinstance(meta.get("topic"), str) else None
    review = meta.get("review") if isinstance(meta.get("review"), str) else None
    intents = []
    for entry in meta.get("intents") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            try:
                confidence = float(entry.get("confidence") or 0)
            except (TypeError, ValueError):
                confidence = 0.0
            intents.append({"name": entry["name"], "confidence": confidence})
    prefixes = [p for p in meta.get("prefixes") or [] if isinstance(p, str)]
    return Meta(
        topic or None,
        intents,
        review or None,
        meta.get("details") is True,
        kind=meta.get("kind") if isinstance(meta.get("kind"), str) else None,
        scam_type=meta.get("scam_type") if isinstance(meta.get("scam_type"), str) else None,
        prefixes=prefixes,
        urgent=meta.get("urgent") is True,
    )


def to_answer(payload: Any) -> Answer:
    """Rasa's REST answer: the messages, and the last `meta` item if any."""
    if not isinstance(payload, list):
        raise RasaUnavailable(f"unexpected answer from Rasa: {type(payload).__name__}")
    meta = None
    for item in payload:
        meta = to_meta(item) or meta
    messages = to_messages(payload)
    if meta is not None and meta.details:
        messages = fold_details(messages)
    return Answer(messages, meta)


def fold_details(messages: list[BotMessage]) -> list[BotMessage]:
    """The second text message as the `details` of the first (`meta.details`):
    one answer, its head shown first and the rest behind 「くわしく」 on the web,
    sent as the following message on LINE. Its buttons join the head's."""
    if len(messages) < 2 or not messages[0].text or not messages[1].text:
        return messages
    # Rasa's REST channel sends each paragraph of a text ("\n\n") as a message
    # of its own: every text after the head is the details, paragraphs again.
    head, rest = messages[0], messages[1:]
    buttons = [*head.buttons]
    for message in rest:
        buttons += [b for b in message.buttons if b not in buttons]
    details = "\n\n".join(m.text for m in rest if m.text)
    return [BotMessage(text=head.text, buttons=buttons, details=details)]


def to_messages(payload: Any) -> list[BotMessage]:
    """Rasa's REST answer as the gateway's messages (text and buttons only)."""
    if not isinstance(payload, list):
        raise RasaUnavailable(f"unexpected answer from Rasa: {type(payload).__name__}")
    messages = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        text = item.get("text") if isinstance(item.get("text"), str) else ""
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("title")
        ]
        if text or buttons:
            messages.append(BotMessage(text=text, buttons=buttons))
    return messages


def client_timeout(total: float, connect: float) -> aiohttp.ClientTimeout:
    """`total` for the whole exchange, `connect` for getting a connection."""
    return aiohttp.ClientTimeout(total=total, connect=connect)


class RasaClient:
    def __init__(
        self,
        urls: list[str],
        http: aiohttp.ClientSession,
        timeout: aiohttp.ClientTimeout,
        token: str | None = None,
    ) -> None:
        self.urls = urls
        self.http = http
        self.timeout = timeout
        # Rasa's HTTP API token (RASA_TOKEN); the REST channel needs none.
        self.token = token

    async def send(self, conversation_id: str, text: str) -> list[BotMessage]:
        return (await self.ask(conversation_id, text)).messages

    async def ask(self, conversation_id: str, text: str) -> Answer:
        """The answer with its meta (see `send` for the messages alone)."""
        body = {"sender": conversation_id, "message": text}
        for url in route(self.urls, conversation_id):
            status, raw = await self._post(f"{url}/webhooks/rest/webhook", body)
            if status is None:
                continue
            if status in TRY_NEXT_STATUS:
                log.warning("Rasa at %s answered %s; trying the next one", url, status)
                continue
            if status != 200:
                raise RasaUnavailable(f"Rasa at {url} answered {status}")
            try:
                return to_answer(json.loads(raw))
            except ValueError as exc:
                raise RasaUnavailable(f"Rasa at {url} sent no JSON") from exc
        raise RasaUnavailable("no Rasa server accepted the connection")

    async def _post(
        self, url: str, body: Any, params: dict[str, str] | None = None
    ) -> tuple[int | None, bytes]:
        """(status, body), or (None, b"") when the server was not reached.
        (`params` go into the query, never into a log line: `url` is logged.)"""
        try:
            async with self.http.post(url, json=body, params=params, timeout=self.timeout) as resp:
                return resp.status, await resp.read()
        except NOT_DELIVERED as exc:
            log.warning("Rasa at %s is not reachable (%s); trying the next one", url, exc)
            return None, b""
        except FAILED as exc:
            raise RasaUnavailable(f"Rasa at {url}: {exc!r}") from exc

    async def restart(self, conversation_id: str) -> None:
        """Forget a conversation: Rasa's `restart` event clears its slots and
        context (needs Rasa's HTTP API, `--enable-api`, and its token,
        `?token=`). With the Redis tracker store the old events expire with it
        (`record_exp`)."""
        body = [{"event": "restart"}]
        params = {"token": self.token} if self.token else None
        for url in route(self.urls, conversation_id):
            status, _ = await self._post(
                f"{url}/conversations/{conversation_id}/tracker/events", body, params
            )
            if status is None:
                continue
            if status == 200:
                return
            raise RasaUnavailable(f"Rasa at {url} answered {status} to a restart")
        raise RasaUnavailable("no Rasa server accepted the connection")

    async def probe(self, url: str, seconds: float) -> bool:
        return await get_ok(self.http, f"{url}/", seconds)


async def get_ok(http: aiohttp.ClientSession, url: str, seconds: float) -> bool:
    """Does `url` answer 200 within `seconds`? (The health check's probe.)"""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as resp:
            return resp.status == 200
    except FAILED:
        return False
