"""The LINE Messaging API webhook (line-bot-sdk v3, `WebhookParser` on the raw body)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from linebot.v3.exceptions import InvalidSignatureError

from app.api.routes.chat import REFUSED
from app.models import ErrorReply, WebhookAccepted
from app.services.line_bot import LineBot

router = APIRouter(prefix="/line", tags=["line"])


def line_bot(request: Request) -> LineBot:
    bot = getattr(request.app.state, "line", None)
    if bot is None:
        raise HTTPException(
            status_code=503,
            detail="LINE is not configured: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN",
        )
    return bot


@router.post(
    "/webhook",
    summary="LINE webhook",
    description=(
        "Called by the LINE platform. The `X-Line-Signature` header must be the "
        "channel secret's HMAC-SHA256 of the raw body (400 otherwise). Answers 200 "
        "at once; the events are answered in the background, each once (an event "
        "that cannot be handled is parked for staff, never retried forever). 503 "
        "when LINE is not configured."
    ),
    response_model=WebhookAccepted,
    # Read raw (the signature is over the bytes); described here for the schema.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "destination": {"type": "string"},
                            "events": {"type": "array", "items": {"type": "object"}},
                        },
                        "required": ["events"],
                    }
                }
            },
        }
    },
    responses={
        400: {
            "model": ErrorReply,
            "description": "Missing or wrong signature, not UTF-8, or not a webhook body",
        },
        413: REFUSED[413],
        422: {"model": ErrorReply, "description": "JSON nested deeper than MAX_JSON_DEPTH"},
        503: {"model": ErrorReply, "description": "LINE is not configured"},
    },
)
async def webhook(
    request: Request,
    x_line_signature: Annotated[str | None, Header()] = None,
) -> WebhookAccepted:
    bot = line_bot(request)
    if not x_line_signature:
        raise HTTPException(status_code=400, detail="X-Line-Signature is missing")
    raw = await request.body()
    try:
        body = raw.decode("utf-8")
        bot.parser.parse(body, x_line_signature)  # checks the signature first
        events = json.loads(body).get("events", [])
    except InvalidSignatureError:
        raise HTTPException(status_code=400, detail="X-Line-Signature does not match") from None
    except (UnicodeDecodeError, ValueError, KeyError, AttributeError, TypeError, RecursionError):
        raise HTTPException(status_code=400, detail="not a LINE webhook body") from None
    if not isinstance(events, list):
        raise HTTPException(status_code=400, detail="not a LINE webhook body")
    accepted = await bot.accept([e for e in events if isinstance(e, dict)])
    return WebhookAccepted(accepted=accepted)
