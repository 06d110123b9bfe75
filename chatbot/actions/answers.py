"""Actions that answer from the knowledge file, through soudan.dialogue."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from soudan import dialogue
from soudan.hours import now_jst
from soudan.normalize import has_words
from soudan.phone import from_entities
from soudan.review import meta


def send(
    dispatcher: CollectingDispatcher,
    result: dialogue.Answer,
    tracker: Tracker,
    review: str | None = None,
) -> None:
    """The answer, then what the channels need for the staff inbox and the
    「役に立った？」 buttons (custom JSON they do not show)."""
    dispatcher.utter_message(text=result.text, buttons=result.button_dicts() or None)
    dispatcher.utter_message(json_message=meta(tracker.latest_message, result.topic, review))


class ActionAnswer(Action):
    """Answers the latest intent; remembers the topic for later questions."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        callers = from_entities(tracker.latest_message.get("entities"))
        result = dialogue.answer(intent, tracker.get_slot("topic"), now_jst(), callers)
        send(dispatcher, result, tracker)
        return [SlotSet("misunderstood", 0.0), SlotSet("topic", result.topic)]


class ActionFallback(Action):
    """Says what the bot can do; after two misses in a row, hands over."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        misses = int(tracker.get_slot("misunderstood") or 0) + 1
        result = dialogue.fallback(
            has_words(tracker.latest_message.get("text")),
            misses,
            tracker.get_slot("topic"),
            now_jst(),
            from_entities(tracker.latest_message.get("entities")),
        )
        reason = "two_misses" if misses >= dialogue.ESCALATE_AFTER else "fallback"
        send(dispatcher, result, tracker, reason)
        return [SlotSet("misunderstood", float(misses))]
