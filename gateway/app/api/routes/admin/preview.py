"""A draft answer as a person would get it, on the web chat and on LINE.

The draft goes the way a staff topic's answer goes when it is live:
soudan.knowledge.render fills the facts, soudan.replies.compose_parts adds
the hotline blocks (head and 「くわしく」 details), soudan.dialogue.Answer
adds one tap-to-call button per hotline; the gateway's BotMessage carries it,
app.services.line_messages.to_line makes LINE's messages of it, and the web
pieces below follow what the chat page's script (static/chat.js: appendText)
does with a bot text: numbers the knowledge file lists (from the gateway's
/api/info list, app.services.replies.info) as tap-to-call links, http(s)
URLs as links, any other phone number kept on one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from app.models import BotMessage, Button
from app.services.line_messages import to_line
from app.services.replies import info
from soudan import knowledge as kb
from soudan.dialogue import Answer
from soudan.replies import compose_parts

# chat.js's patterns: a URL, a known number (longest first, not inside a line's
# name such as みんなの人権…番), any other phone-number shape.
URL_CHARS = r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+"
DIGIT = "[0-9０-９]"
DASH = "[-‐－−ー]"
ANY_NUMBER = "|".join(
    [
        rf"[+＋]{DIGIT}{{1,3}}(?:[ -]?\(?{DIGIT}{{1,4}}\)?){{1,5}}",
        rf"(?:\({DIGIT}{{2,5}}\) ?)?{DIGIT}{{1,5}}(?:{DASH}{DIGIT}{{1,5}})+",
        rf"[#＃]{DIGIT}{{3,4}}",
        rf"0{DIGIT}{{9,10}}",
    ]
)


@dataclass(frozen=True)
class Piece:
    kind: str  # text | tel | url | nowrap
    text: str
    href: str = ""


@cache
def _known() -> tuple[dict[str, str], re.Pattern[str]]:
    tel_of = {h.number: h.tel for h in info(1000).hotlines if h.number and h.tel}
    known = sorted(tel_of, key=len, reverse=True)
    parts = [f"(?P<url>{URL_CHARS})"]
    if known:
        names = "|".join(re.escape(n) for n in known)
        parts.append(rf"(?<![0-9#-])(?<!人権)(?P<known>{names})(?![0-9-])")
    parts.append(rf"(?<![0-9０-９A-Za-z])(?P<number>{ANY_NUMBER})(?![0-9０-９])")
    return tel_of, re.compile("|".join(parts))


def _url(raw: str) -> tuple[Piece, str] | None:
    url = re.sub(r"[.,;:!?'\"]+$", "", raw)
    if url.endswith(")") and "(" not in url:
        url = url[:-1]
    if urlsplit(url).scheme not in {"http", "https"}:
        return None
    return Piece("url", url, url), raw[len(url) :]


def web_pieces(text: str) -> list[Piece]:
    """A bot text as the web chat shows it, in pieces (links are built by the template)."""
    tel_of, pattern = _known()
    pieces: list[Piece] = []
    last = 0
    for match in pattern.finditer(text):
        rest = ""
        if match.group("url") is not None:
            found = _url(match.group("url"))
            if found is None:
                continue
            node, rest = found
        elif match.groupdict().get("known") is not None:
            number = match.group("known")
            node = Piece("tel", number, tel_of[number])
        else:
            node = Piece("nowrap", match.group("number"))
        if match.start() > last:
            pieces.append(Piece("text", text[last : match.start()]))
        pieces.append(node)
        if rest:
            pieces.append(Piece("text", rest))
        last = match.end()
    if last < len(text):
        pieces.append(Piece("text", text[last:]))
    return pieces


def draft_message(answer: str, hotlines: list[str], moment: datetime) -> BotMessage:
    """The message a staff topic with this answer (placeholders) and these
    hotline keys sends (soudan.dialogue.answer's path for a topic)."""
    reply = kb.Reply(
        intent="draft", text=kb.render(answer), hotlines=[kb.hotline(k) for k in hotlines]
    )
    head, details = compose_parts(reply, moment)
    said = Answer(head, reply.buttons, None, reply.hotlines, details, "answer")
    return BotMessage(
        text=said.text,
        details=said.details or None,
        buttons=[Button(**b) for b in said.button_dicts()],
    )


def views(message: BotMessage) -> dict:
    """What the preview template shows: the web message and LINE's messages."""
    line = []
    for sent in to_line([message]):
        quick = sent.quick_reply.items if sent.quick_reply else []
        line.append(
            {
                "text": sent.text,
                "quick": [
                    {"label": item.action.label, "tel": getattr(item.action, "uri", None)}
                    for item in quick
                ],
            }
        )
    return {
        "web": {
            "head": web_pieces(message.text),
            "details": web_pieces(message.details or ""),
            "buttons": [
                {"title": b.title, "tel": b.payload if b.payload.startswith("tel:") else ""}
                for b in message.buttons
            ],
        },
        "line": line,
    }
