"""The chat API: send a message, read the conversation's history."""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Response

from app.api.deps import (
    ChatConversation,
    KnownConversationId,
    RasaDep,
    ReviewDep,
    SettingsDep,
    StoreDep,
)
from app.models import ChatReply, ChatRequest, History, HistoryEntry, Info
from app.services import replies
from app.services.rasa import Answer, RasaUnavailable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"])

REFUSED = {
    "model": ChatReply,
    "description": "Refused, with a polite reply in `messages` (`status`: `refused`)",
}
ERRORS: dict[int | str, dict] = {
    400: {**REFUSED, "description": "The body is not text (not UTF-8)"},
    413: {**REFUSED, "description": "Body over MAX_BODY_BYTES"},
    415: {**REFUSED, "description": "Content-Type is not application/json"},
    422: {**REFUSED, "description": 'Empty, too long, not JSON, or not `{"message": str}`'},
    429: {
        "model": ChatReply,
        "description": "Too many messages from this conversation or address "
        "(`status`: `rate_limited`, header Retry-After)",
    },
}


@router.post("/chat", response_model=ChatReply, responses=ERRORS)
async def chat(
    body: ChatRequest,
    conversation: ChatConversation,
    response: Response,
    background: BackgroundTasks,
    settings: SettingsDep,
    rasa: RasaDep,
    store: StoreDep,
    review: ReviewDep,
) -> ChatReply:
    """Send a message to the assistant and get its replies.

    The conversation is the browser's (cookie). When the assistant cannot
    answer (Rasa or its action server down or slow), the reply is still 200,
    with `status` `unavailable` and the center's number and hours.
    """
    text = body.message
    if not text.strip():
        response.status_code = 422
        return ChatReply(messages=replies.empty(), status="refused")
    if len(text) > settings.MAX_MESSAGE_LENGTH:
        response.status_code = 422
        return ChatReply(messages=replies.too_long(settings.MAX_MESSAGE_LENGTH), status="refused")
    try:
        answer = await rasa.ask(conversation.id, text)
    except RasaUnavailable as exc:
        log.warning("no answer from Rasa: %s", exc)
        answer = Answer([])
    messages = answer.messages
    # The action server down shows as an empty answer: every message gets one.
    reply = (
        ChatReply(messages=messages)
        if messages
        else ChatReply(messages=replies.unavailable(), status="unavailable")
    )
    if conversation.persistent:
        entries = [{"role": "user", "text": body.label or text, "buttons": []}]
        entries += [{"role": "bot", **m.model_dump()} for m in reply.messages]
        # Written once the reply is sent: the person does not wait for it.
        background.add_task(store.append_history, conversation.id, entries)
    meta = answer.meta
    if meta is not None and meta.review and messages:
        background.add_task(
            review.add_item,
            text=text,
            channel="web",
            reason=meta.review,
            intents=meta.intents,
            bot_reply=answer.text,
        )
    if meta is not None and meta.topic and messages and conversation.persistent:
        # Off the answer's path, like the history: nobody presses a
        # feedback button before the answer is on the screen.
        context = {"topic": meta.topic, "intents": meta.intents}
        background.add_task(review.remember_answer, conversation.id, context)
        reply.topic = meta.topic
    return reply


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
