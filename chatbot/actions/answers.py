"""The answering action: reads the tracker into a soudan Turn, sends the reply.

One action answers every catalogue entry, follow-up, hand-over, small talk
and fallback (`soudan.turn.respond` decides); the per-topic data is in the
knowledge file, so a new entry needs no story, rule or action.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from soudan import dialogue
from soudan.catalogue import ENTRY_ENTITY, RETRIEVAL_INTENT
from soudan.eligibility_replies import SCHEME_SLOT
from soudan.hours import now_jst
from soudan.phone import from_entities, prefixes_from_entities
from soudan.review import meta
from soudan.turn import Outcome, Turn, asks_why, opens_check, respond

TOPIC_SLOT = "topic"
MISSES_SLOT = "misunderstood"
CANDIDATES_SLOT = "candidates"


def turn_of(tracker: Tracker) -> Turn:
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    entities = message.get("entities") or []
    selected = ((message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}).get(
        "ranking"
    ) or []
    selector = []
    for item in selected:
        key = str(item.get("intent_response_key") or "")
        if "/" in key:
            selector.append((key.split("/", 1)[1], float(item.get("confidence") or 0)))
    entry = next((str(e.get("value")) for e in entities if e.get("entity") == ENTRY_ENTITY), None)
    return Turn(
        text=message.get("text") or "",
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0),
        ranking=[
            (str(r.get("name")), float(r.get("confidence") or 0))
            for r in message.get("intent_ranking") or []
        ],
        selector=selector,
        entry=entry,
        callers=from_entities(entities),
        prefixes=prefixes_from_entities(entities),
        topic=tracker.get_slot(TOPIC_SLOT),
        misses=int(tracker.get_slot(MISSES_SLOT) or 0),
        asked=bool(tracker.active_loop_name),
        candidates=list(tracker.get_slot(CANDIDATES_SLOT) or []),
        moment=now_jst(),
    )


def send(
    dispatcher: CollectingDispatcher,
    result: dialogue.Answer,
    tracker: Tracker,
    review: str | None = None,
) -> None:
    """The head with its buttons, the details as a following message, then what
    the channels need (custom JSON they do not show: the topic, whether the
    second message is the details, what staff should review)."""
    dispatcher.utter_message(text=result.text, buttons=result.button_dicts() or None)
    if result.details:
        dispatcher.utter_message(text=result.details)
    dispatcher.utter_message(json_message=meta(tracker.latest_message or {}, result, review))


def outcome_events(outcome: Outcome) -> list[dict[str, Any]]:
    return [
        SlotSet(TOPIC_SLOT, outcome.answer.topic),
        SlotSet(MISSES_SLOT, float(outcome.misses)),
        SlotSet(CANDIDATES_SLOT, outcome.candidates),
    ]


class ActionAnswer(Action):
    """Answers the latest message; remembers the topic for later questions."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = turn_of(tracker)
        if opens_check(turn):
            # An eligibility question the classifier gave to the scheme's entry.
            return [FollowupAction("action_eligibility_start")]
        if asks_why(turn) and tracker.get_slot(SCHEME_SLOT):
            # 「なんで？」 after a decision, read unsurely: its reasons, said
            # here (a follow-up action would bring the fallback back after it).
            from actions.eligibility import ActionExplainWhy  # it imports this module

            return await ActionExplainWhy().run(dispatcher, tracker, domain)
        outcome = respond(turn)
        send(dispatcher, outcome.answer, tracker)
        return outcome_events(outcome)


class ActionFallback(ActionAnswer):
    """The NLU was unsure (or no rule applied): the same decision, which offers
    the likely topics, names 110 and an open line, and hands over after two
    misses in a row."""

    def name(self) -> str:
        return "action_fallback"
