"""Dependencies of the routes, as `Annotated` types."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from app.core.config import Settings
from app.services.rasa import RasaClient
from app.services.review import Review
from app.services.store import ResilientStore, StoreUnavailable

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def new_conversation_id() -> str:
    return secrets.token_urlsafe(32)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> ResilientStore:
    return request.app.state.store


async def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


async def get_review(request: Request) -> Review:
    return request.app.state.review


# The dependencies are `async def` even where they do not await: FastAPI runs a
# plain `def` dependency in its thread pool, a thread hop on every request.
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ResilientStore, Depends(get_store)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
ReviewDep = Annotated[Review, Depends(get_review)]


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers/--forwarded-allow-ips put the
    # real address here; otherwise it is the peer's.
    return request.client.host if request.client else "unknown"


async def require_json(request: Request) -> None:
    """Only application/json bodies: also what keeps other sites' forms out."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise HTTPException(status_code=415, detail="Content-Type must be application/json")


@dataclass(frozen=True)
class Conversation:
    id: str
    # False when Redis could not say whether the cookie's conversation exists:
    # this request then uses a one-off id and leaves the cookie alone.
    persistent: bool = True


def _set_cookie(response: Response, settings: Settings, cid: str) -> None:
    response.set_cookie(
        settings.COOKIE_NAME,
        cid,
        max_age=settings.CONVERSATION_TTL,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.COOKIE_SECURE,
    )


async def known_conversation_id(
    request: Request, settings: SettingsDep, store: StoreDep
) -> str | None:
    """The cookie's conversation if this gateway issued it, else None."""
    raw = request.cookies.get(settings.COOKIE_NAME, "")
    if not CONVERSATION_ID.fullmatch(raw):
        return None
    try:
        return raw if await store.conversation_exists(raw) else None
    except StoreUnavailable:
        return None


async def chat_conversation(
    request: Request,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    _json: Annotated[None, Depends(require_json)],
) -> Conversation:
    """The conversation of this browser, created when it has none, after the
    rate limits of the address and of the conversation (one store round trip).

    A cookie value is used only when this gateway issued it (its conversation
    is in the store); anything else, forged or expired, gets a new random id.
    """
    raw = request.cookies.get(settings.COOKIE_NAME, "")
    candidate = raw if CONVERSATION_ID.fullmatch(raw) else None
    new_id = new_conversation_id()
    admission = await store.admit(
        client_address(request),
        candidate,
        new_id,
        settings.RATE_LIMIT_PER_CLIENT,
        settings.RATE_LIMIT_PER_CONVERSATION,
        settings.RATE_LIMIT_WINDOW,
    )
    if not admission.client.allowed:
        raise RateLimited(admission.client.retry_after)
    if admission.allowance is not None and not admission.allowance.allowed:
        raise RateLimited(admission.allowance.retry_after)
    if candidate is not None and admission.existed is None:
        # Redis cannot tell: keep the cookie for when it is back.
        return Conversation(new_id, persistent=False)
    conversation = Conversation(admission.conversation or new_id)
    _set_cookie(response, settings, conversation.id)
    return conversation


ChatConversation = Annotated[Conversation, Depends(chat_conversation)]
KnownConversationId = Annotated[str | None, Depends(known_conversation_id)]
