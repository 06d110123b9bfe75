"""What the channels learn about an answer: its topic, and what staff should review.

The actions attach this to their answer as Rasa `custom` JSON
(`{"meta": {...}}`); the channels (web, LINE) do not show it. They use it to
show the details behind 「くわしく」, to ask 「役に立ちましたか」 under a topic,
to put the message, masked, into the staff inbox when `review` names a
reason, and to count topics for the center's analytics. Plain logic over
the parsed message, no Rasa import.
"""

from __future__ import annotations

from typing import Any

from soudan import catalogue

# Below this confidence an answered message is still worth a look (the NLU's
# fallback threshold, config.yml, is lower: under it the bot does not answer).
REVIEW_BELOW = 0.6
# Intents shown to staff with their confidences.
TOP_INTENTS = 3


def full_intents(latest_message: dict[str, Any]) -> list[dict[str, Any]]:
    """The top intents, the catalogue question written as its entry (`faq/<key>`)."""
    intent = latest_message.get("intent") or {}
    ranking = latest_message.get("intent_ranking") or ([intent] if intent else [])
    selector = ((latest_message.get("response_selector") or {}).get("faq") or {}).get(
        "response"
    ) or {}
    out = []
    for r in ranking[:TOP_INTENTS]:
        name = r.get("name")
        confidence = float(r.get("confidence") or 0)
        if name == catalogue.RETRIEVAL_INTENT and selector.get("intent_response_key"):
            name = selector["intent_response_key"]
            confidence *= float(selector.get("confidence") or 1)
        out.append({"name": name, "confidence": round(confidence, 3)})
    return out


def meta(latest_message: dict[str, Any], answer: Any, reason: str | None = None) -> dict:
    """`{"meta": {...}}` for the answer (a soudan.dialogue.Answer) to `latest_message`.

    `reason`: why staff should look ("fallback", "two_misses", "misroute",
    "ambiguous"); otherwise "low_confidence" when the reading answered was
    under REVIEW_BELOW. Button payloads (「/affirm」) are never reviewed:
    nobody typed them.
    """
    text = latest_message.get("text") or ""
    intents = full_intents(latest_message)
    reason = reason or answer.review
    if text.startswith("/"):
        reason = None
    elif reason is None and answer.kind == "answer" and intents:
        if float(intents[0]["confidence"]) < REVIEW_BELOW:
            reason = "low_confidence"
    entry = catalogue.entry(answer.topic)
    return {
        "meta": {
            "topic": answer.topic,
            "intents": intents,
            "review": reason,
            "details": bool(answer.details),
            "urgent": answer.urgent,
            "kind": answer.kind,
            "prefixes": list(answer.prefixes),
            "group": entry.group if entry else None,
            "scam_type": catalogue.scam_type(answer.topic),
        }
    }
