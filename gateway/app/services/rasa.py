"""Talk to Rasa's REST channel, with several Rasa servers behind one gateway.

A conversation goes first to the server its id hashes to, so its messages
take the same way while every server is up; when that one does not accept
the connection (stopped, restarting), the next one in the list takes the
message. With the tracker and lock stores in Redis, any server continues
any conversation. A server that accepted the message but was slow or broke
off is not asked again: it may have processed the message already.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import httpx

from app.models import BotMessage, Button

log = logging.getLogger(__name__)

# Refused or unreachable before the message was sent: safe to try the next server.
NOT_DELIVERED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers that a proxy or a server gives before handling anything.
TRY_NEXT_STATUS = {502, 503, 504}


class RasaUnavailable(RuntimeError):
    """No Rasa server answered the message."""


def route(urls: list[str], conversation_id: str) -> list[str]:
    """The servers to try for a conversation, in order."""
    digest = hashlib.sha256(conversation_id.encode()).digest()
    start = int.from_bytes(digest[:8], "big") % len(urls)
    return urls[start:] + urls[:start]


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


class RasaClient:
    def __init__(self, urls: list[str], http: httpx.AsyncClient, timeout: httpx.Timeout) -> None:
        self.urls = urls
        self.http = http
        self.timeout = timeout

    async def send(self, conversation_id: str, text: str) -> list[BotMessage]:
        body = {"sender": conversation_id, "message": text}
        for url in route(self.urls, conversation_id):
            try:
                resp = await self.http.post(
                    f"{url}/webhooks/rest/webhook", json=body, timeout=self.timeout
                )
            except NOT_DELIVERED as exc:
                log.warning("Rasa at %s is not reachable (%s); trying the next one", url, exc)
                continue
            except httpx.HTTPError as exc:
                raise RasaUnavailable(f"Rasa at {url}: {exc!r}") from exc
            if resp.status_code in TRY_NEXT_STATUS:
                log.warning("Rasa at %s answered %s; trying the next one", url, resp.status_code)
                continue
            if resp.status_code != 200:
                raise RasaUnavailable(f"Rasa at {url} answered {resp.status_code}")
            try:
                return to_messages(resp.json())
            except ValueError as exc:
                raise RasaUnavailable(f"Rasa at {url} sent no JSON") from exc
        raise RasaUnavailable("no Rasa server accepted the connection")

    async def restart(self, conversation_id: str) -> None:
        """Forget a conversation: Rasa's `restart` event clears its slots and
        context (needs Rasa's HTTP API, `--enable-api`). With the Redis tracker
        store the old events expire with it (`record_exp`)."""
        body = [{"event": "restart"}]
        for url in route(self.urls, conversation_id):
            try:
                resp = await self.http.post(
                    f"{url}/conversations/{conversation_id}/tracker/events",
                    json=body,
                    timeout=self.timeout,
                )
            except NOT_DELIVERED:
                continue
            except httpx.HTTPError as exc:
                raise RasaUnavailable(f"Rasa at {url}: {exc!r}") from exc
            if resp.status_code == 200:
                return
            raise RasaUnavailable(f"Rasa at {url} answered {resp.status_code} to a restart")
        raise RasaUnavailable("no Rasa server accepted the connection")

    async def probe(self, url: str, seconds: float) -> bool:
        try:
            resp = await self.http.get(f"{url}/", timeout=seconds)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200
