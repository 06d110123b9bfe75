"""Dependencies of the routes, as `Annotated` types."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from app.core.config import Settings
from app.services.rasa import RasaClient
from app.services.review import Review
from app.services.store import Store, StoreUnavailable

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


async def get_review(request: Request) -> Review:
    return request.app.state.review


# The dependencies are `async def` even where they do not await: FastAPI runs a
# plain `def` dependency in its thread pool, a thread hop on every request.
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
ReviewDep = Annotated[Review, Depends(get_review)]


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers/--forwarded-allow-ips put the
    # real address here; otherwise it is the peer's.
    return request.client.host if request.client else "unknown"


async def require_json(request: Request) -> None:
    """Only application/json bodies: also what keeps other sites' forms out."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise HTTPException(status_code=415, detail="Content-Type must be application/json")


def set_conversation_cookie(response: Response, settings: Settings, cid: str) -> None:
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
    cid = conversation_cookie(request, settings)
    if cid is None:
        return None
    try:
        return cid if await store.conversation_exists(cid) else None
    except StoreUnavailable:
        return None


def conversation_cookie(request: Request, settings: Settings) -> str | None:
    """The cookie's conversation id if it is well formed (whether this gateway
    issued it is for the store to say), else None."""
    raw = request.cookies.get(settings.COOKIE_NAME, "")
    return raw if CONVERSATION_ID.fullmatch(raw) else None


KnownConversationId = Annotated[str | None, Depends(known_conversation_id)]
