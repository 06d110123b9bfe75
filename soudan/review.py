"""What staff should review: messages the assistant was unsure about.

The actions attach this to their answer as Rasa `custom` JSON
(`{"meta": {...}}`); the channels (web, LINE) do not show it but put the
message, masked, into the staff inbox when `review` names a reason. Plain
logic over the parsed message, no Rasa import.
"""

from __future__ import annotations

from typing import Any

# Below this confidence an answered message is still worth a look (the NLU's
# fallback threshold, config.yml, is lower: under it the bot does not answer).
REVIEW_BELOW = 0.6
# Intents shown to staff with their confidences.
TOP_INTENTS = 3


def meta(latest_message: dict[str, Any], topic: str | None, reason: str | None = None) -> dict:
    """`{"meta": {"topic", "intents", "review"}}` for a reply to `latest_message`.

    `reason`: "fallback" or "two_misses" from the fallback action; otherwise
    "low_confidence" when the intent answered was under REVIEW_BELOW. Button
    payloads (「/affirm」) are never reviewed: nobody typed them.
    """
    text = latest_message.get("text") or ""
    intent = latest_message.get("intent") or {}
    ranking = latest_message.get("intent_ranking") or ([intent] if intent else [])
    intents = [
        {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 3)}
        for r in ranking[:TOP_INTENTS]
    ]
    if text.startswith("/"):
        reason = None
    elif reason is None and float(intent.get("confidence") or 1) < REVIEW_BELOW:
        reason = "low_confidence"
    return {"meta": {"topic": topic, "intents": intents, "review": reason}}
