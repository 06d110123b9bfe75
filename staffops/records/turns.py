"""The masked log of each answered turn, for the center's analytics.

What is kept: time, channel, topic, top intent and its confidence, whether
the bot fell back, the answer's kind and scam type, the number beginnings
asked about, and, only when it fell back, the message masked by
soudan.masking (what the bot missed). Never the text as written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from soudan.masking import mask
from soudan.normalize import MAX_CHARS
from staffops.records import database
from staffops.records.tables import turns

FALLBACK_KINDS = {"fallback"}
FALLBACK_REVIEWS = {"fallback", "two_misses"}


def is_fallback(kind: str | None, review: str | None) -> bool:
    return kind in FALLBACK_KINDS or review in FALLBACK_REVIEWS


def row(
    *,
    channel: str,
    text: str = "",
    topic: str | None = None,
    intents: list[dict[str, Any]] | None = None,
    kind: str | None = None,
    review: str | None = None,
    scam_type: str | None = None,
    prefixes: list[str] | None = None,
    when: datetime | str | None = None,
) -> dict[str, Any]:
    """The row of one turn; the text is masked here, and kept only for a fallback.
    Masking loads GiNZA on first use: from an async app, call it in a thread."""
    top = (intents or [{}])[0] if intents else {}
    fallback = is_fallback(kind, review)
    kept = mask(text)[:MAX_CHARS] if fallback and text and not text.startswith("/") else None
    return {
        "time": database.to_utc(when),
        "channel": channel[:8],
        "topic": (topic or None) and str(topic)[:100],
        "intent": (top.get("name") or None) and str(top["name"])[:100],
        "confidence": float(top["confidence"]) if top.get("confidence") is not None else None,
        "fallback": fallback,
        "kind": (kind or None) and str(kind)[:16],
        "scam_type": (scam_type or None) and str(scam_type)[:64],
        "prefixes": [str(p)[:12] for p in (prefixes or [])][:5] or None,
        "fallback_text": kept or None,
    }


def add(engine: sa.engine.Engine, **fields: Any) -> dict[str, Any]:
    """Log one turn (see `row`); the row written."""
    values = row(**fields)
    with engine.begin() as conn:
        conn.execute(sa.insert(turns).values(values))
    return values
