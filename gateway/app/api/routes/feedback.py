"""Feedback on an answer: 「役に立った」/「役に立たなかった」 under the web chat's answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from app.api.deps import (
    KnownConversationId,
    ReviewDep,
    SettingsDep,
    StoreDep,
    client_address,
    require_json,
)
from app.api.routes.chat import REFUSED
from app.models import ErrorReply, FeedbackReply, FeedbackRequest
from app.services.admission import RateLimited
from app.services.review import thanks

router = APIRouter(prefix="/api", tags=["chat"])


def last_exchange(history: list[dict]) -> tuple[str, str]:
    """The last user message of a conversation's history and the bot's reply to it."""
    for index in range(len(history) - 1, -1, -1):
        if history[index].get("role") == "user":
            reply = [e.get("text", "") for e in history[index + 1 :] if e.get("role") == "bot"]
            return history[index].get("text", ""), "\n\n".join(t for t in reply if t)
    return "", ""


@router.post(
    "/feedback",
    response_model=FeedbackReply,
    responses={
        **REFUSED,
        409: {
            "model": ErrorReply,
            "description": "No answer of this conversation to rate (or rated already)",
        },
    },
)
async def feedback(
    body: FeedbackRequest,
    request: Request,
    response: Response,
    conversation_id: KnownConversationId,
    settings: SettingsDep,
    store: StoreDep,
    review: ReviewDep,
    _json: Annotated[None, Depends(require_json)],
) -> FeedbackReply:
    """Whether the last answer helped; once per answer (the browser's conversation,
    cookie). A 「役に立たなかった」 puts the message and the answer, masked, into
    the staff inbox."""
    allowance = await request.app.state.limiter.hit(
        f"client:{client_address(request)}",
        settings.RATE_LIMIT_PER_CLIENT,
        settings.RATE_LIMIT_WINDOW,
    )
    if not allowance.allowed:
        raise RateLimited(allowance.retry_after)
    context = await review.take_answer(conversation_id, body.topic) if conversation_id else None
    if context is None:
        raise HTTPException(status_code=409, detail="no answer to rate")
    await review.count_feedback(body.topic, body.helpful)
    # Feedback is an answer from the person: the conversation was not abandoned.
    await request.app.state.turns.feedback_given(conversation_id)
    if not body.helpful:
        text, reply = last_exchange(await store.history(conversation_id))
        if text:
            await review.add_item(
                text=text,
                channel="web",
                reason="feedback_negative",
                intents=context.get("intents"),
                bot_reply=reply,
            )
    return FeedbackReply(recorded=True, message=thanks(body.helpful))
