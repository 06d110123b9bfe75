"""The assistant's messages as LINE messages, within the platform's limits.

LINE takes at most 5 messages per reply or push, 5,000 characters per text
message, 13 quick-reply items on a message, and 20 characters per action
label. Long texts are split at line breaks; extra messages are joined into
the fifth; buttons become quick replies on the last message: a `tel:`
payload becomes a tap-to-call URI action, any other payload a postback whose
data is the payload (the person sees the button's title as their message).

An answer's `details` (the 「くわしく」 part, behind a disclosure on the web)
is the message that follows its head: the head, read first, carries what to
do now and where to call.
"""

from __future__ import annotations

from linebot.v3.messaging import (
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)

from app.models import BotMessage, Button

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_POSTBACK_DATA = 300


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break where possible."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= limit // 2:  # no useful line break: cut at the limit
            cut = limit
        pieces.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def _label(title: str) -> str:
    return title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1] + "…"


def quick_reply_item(button: Button) -> QuickReplyItem | None:
    if button.payload.startswith("tel:"):
        action = URIAction(label=_label(button.title), uri=button.payload)
    elif 0 < len(button.payload) <= MAX_POSTBACK_DATA:
        action = PostbackAction(
            label=_label(button.title), data=button.payload, displayText=button.title[:300]
        )
    else:
        return None
    return QuickReplyItem(action=action)


def _texts(messages: list[BotMessage]) -> list[str]:
    parts = [part.strip() for m in messages for part in (m.text, m.details or "")]
    texts = [piece for part in parts if part for piece in split_text(part)]
    if len(texts) <= MAX_MESSAGES:
        return texts
    # Keep four as they are and put the rest into the fifth, as far as it holds.
    head, rest = texts[: MAX_MESSAGES - 1], "\n\n".join(texts[MAX_MESSAGES - 1 :])
    return [*head, split_text(rest)[0]]


def to_line(messages: list[BotMessage], fallback_text: str = "") -> list[Message]:
    """At most five LINE text messages; the buttons of all of them, in order
    and without repeats, as quick replies on the last one."""
    texts = _texts(messages) or ([fallback_text] if fallback_text else [])
    if not texts:
        return []
    items: list[QuickReplyItem] = []
    seen: set[str] = set()
    for button in (b for m in messages for b in m.buttons):
        if button.payload in seen or len(items) == MAX_QUICK_REPLIES:
            continue
        if item := quick_reply_item(button):
            seen.add(button.payload)
            items.append(item)
    out: list[Message] = [TextMessage(text=t) for t in texts[:-1]]
    quick = QuickReply(items=items) if items else None
    out.append(TextMessage(text=texts[-1], quickReply=quick))
    return out
