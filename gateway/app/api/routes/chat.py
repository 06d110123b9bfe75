"""The chat API: send a message, read the conversation's history.

`POST /api/chat` is the one route on every message's path, so it takes the
`Request` itself: it reads and validates the body with pydantic and returns
the JSON bytes, where a route with `Depends` parameters and a
`response_model` would have FastAPI resolve eight dependencies, validate the
returned model again and encode it through `jsonable_encoder`: about 0.4 ms
of the gateway's 2.8 ms per message (docs/measurements.md). The schema it
documents (`openapi_extra`, `responses`) is the same as before.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.background import BackgroundTasks

from app.api.deps import (
    KnownConversationId,
    SettingsDep,
    StoreDep,
    client_address,
    conversation_cookie,
    require_json,
    set_conversation_cookie,
)
from app.models import ChatReply, ChatRequest, ErrorReply, History, HistoryEntry, Info
from app.services import replies
from app.services.rasa import Answer, RasaUnavailable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"])

# Every refusal of a JSON route (app.core.security.BodyGuard, the routes):
# the chat's shape with `detail`.
REFUSED: dict[int | str, dict] = {
    400: {
        "model": ErrorReply,
        "description": "The body is not UTF-8 text (encoded surrogates included)",
    },
    413: {"model": ErrorReply, "description": "Body over MAX_BODY_BYTES"},
    415: {"model": ErrorReply, "description": "Content-Type is not application/json"},
    422: {
        "model": ErrorReply,
        "description": "Not JSON, nested deeper than MAX_JSON_DEPTH, or not the request's shape",
    },
    429: {
        "model": ErrorReply,
        "description": "Too many requests from this conversation or address "
        "(`status`: `rate_limited`, header Retry-After)",
    },
}
RESPONSES: dict[int | str, dict] = {
    200: {"model": ChatReply, "description": "The assistant's messages"},
    **REFUSED,
    422: {
        "model": ErrorReply,
        "description": 'Empty, too long, not JSON, nested deeper than MAX_JSON_DEPTH, or not `{"message": str}`',
    },
}
SCHEMAS = "#/components/schemas/{model}"
REQUEST_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": SCHEMAS.format(model="ChatRequest")}}},
}


def describe_request_body(openapi: dict) -> None:
    """Put ChatRequest into the schema's components, where REQUEST_BODY points:
    FastAPI adds only the models of parameters it parses itself."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components["ChatRequest"] = ChatRequest.model_json_schema(ref_template=SCHEMAS)


def document(app: FastAPI) -> None:
    """The app's schema with ChatRequest in it (see `describe_request_body`)."""
    openapi = app.openapi

    def openapi_with_chat_request() -> dict:
        fresh = app.openapi_schema is None
        schema = openapi()
        if fresh:
            describe_request_body(schema)
        return schema

    app.openapi = openapi_with_chat_request


async def read_chat_request(request: Request) -> ChatRequest:
    """The body as a ChatRequest, with the 415, 400 and 422 that FastAPI gives
    a body it parses itself. (`json.loads`, unlike pydantic's parser, takes
    the lone surrogates written as JSON escapes, `"\\ud800"`, that a cut emoji
    leaves: ChatRequest replaces them. Encoded surrogates, bytes that are
    not UTF-8, are refused with 400 by BodyGuard and again here.)"""
    await require_json(request)
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPException(status_code=400, detail="The body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([error]) from None
    except (ValueError, RecursionError):  # an integer of over 4,300 digits; too deep
        error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON not readable"}
        raise RequestValidationError([error]) from None
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def json_response(reply: ChatReply, status: int = 200) -> Response:
    return Response(reply.model_dump_json(), status_code=status, media_type="application/json")


@router.post(
    "/chat",
    response_model=None,
    responses=RESPONSES,
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def chat(request: Request) -> Response:
    """Send a message to the assistant and get its replies.

    The body is a `ChatRequest`; the conversation is the browser's (cookie).
    When the assistant cannot answer (Rasa or its action server down or slow),
    the reply is still 200, with `status` `unavailable` and the center's
    number and hours.
    """
    state = request.app.state
    settings = state.settings
    body = await read_chat_request(request)
    # Rate limits, then the cookie's conversation or a new one (admission.py).
    conversation = await state.admissions.admit(
        client_address(request), conversation_cookie(request, settings)
    )
    response = await answer(request, body, conversation.id, conversation.persistent)
    if conversation.persistent:
        set_conversation_cookie(response, settings, conversation.id)
    return response


async def answer(request: Request, body: ChatRequest, cid: str, persistent: bool) -> Response:
    state = request.app.state
    settings = state.settings
    text = body.message
    if not text.strip():
        return json_response(ChatReply(messages=replies.empty(), status="refused"), 422)
    if len(text) > settings.MAX_MESSAGE_LENGTH:
        reply = ChatReply(messages=replies.too_long(settings.MAX_MESSAGE_LENGTH), status="refused")
        return json_response(reply, 422)
    try:
        answered = await state.rasa.ask(cid, text)
    except RasaUnavailable as exc:
        log.warning("no answer from Rasa: %s", exc)
        answered = Answer([])
    messages = answered.messages
    # The action server down shows as an empty answer: every message gets one.
    reply = (
        ChatReply(messages=messages)
        if messages
        else ChatReply(messages=replies.unavailable(), status="unavailable")
    )
    # Written once the reply is sent: the person does not wait for them.
    later = BackgroundTasks()
    if persistent:
        entries = [{"role": "user", "text": body.label or text, "buttons": []}]
        entries += [{"role": "bot", **m.model_dump()} for m in reply.messages]
        later.add_task(state.store.append_history, cid, entries)
    meta = answered.meta
    if meta is not None and meta.topic and messages and persistent:
        reply.topic = meta.topic
    if persistent:
        # The inbox item, the feedback context, the turn log, the misroute and
        # abandoned signals: app.services.turns, as for LINE.
        later.add_task(
            state.turns.answered, channel="web", conversation=cid, text=text, answer=answered
        )
    elif meta is not None and messages:
        # A one-off conversation (the store could not tell): no feedback, no
        # signals, but the turn is still logged and a flagged answer reviewed.
        later.add_task(state.turns.unremembered, channel="web", text=text, answer=answered)
    response = json_response(reply)
    response.background = later
    return response


@router.get("/history", response_model=History)
async def history(conversation_id: KnownConversationId, store: StoreDep) -> History:
    """This browser's conversation so far (empty for a new browser)."""
    if conversation_id is None:
        return History(messages=[])
    entries = []
    for item in await store.history(conversation_id):
        try:
            entries.append(HistoryEntry.model_validate(item))
        except ValueError:
            continue
    return History(messages=entries)


@router.get("/info", response_model=Info)
async def info(settings: SettingsDep) -> Info:
    """The center's contact, every hotline (to link their numbers), the menu."""
    return replies.info(settings.MAX_MESSAGE_LENGTH)
