"""The eligibility check: a form that asks only for what the decision needs.

`action_eligibility_start` opens a case from the question, `eligibility_form`
asks one thing at a time (the next question comes from the rules engine, so
nothing already known or no longer needed is asked), and
`action_eligibility_result` says the decision with one reason per rule and
the hotline to call. 「なぜ？」 later gets the same reasons again. The logic is
in soudan.eligibility_replies; these classes only move slots.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import outcome_events, send, turn_of
from soudan import catalogue, dialogue, urgency
from soudan.case_text import Reply, names_docomo, scheme_in
from soudan.dates import Span, day_in_japan
from soudan.eligibility import UNKNOWN, scheme_for_topic
from soudan.eligibility_replies import (
    SCHEME_SLOT,
    Case,
    amount_slots,
    ask,
    case_for_question,
    explain,
    form_slots,
    intro,
    is_settled,
    question_buttons,
    read_answer,
    result,
    say,
    stopped,
)
from soudan.hours import now_jst
from soudan.phone import from_entities
from soudan.turn import respond, scam_context

FORM = "eligibility_form"
DATE_SLOT = "elig_date"
EXIT_SLOT = "elig_exit"  # None, "stop", or "switch" (a new question ends the check)
RETRIES_SLOT = "elig_retries"
# Unreadable answers to one question before it is taken as 「わからない」.
MAX_RETRIES = 2
# A message the form cannot read, that the NLU reads this surely as another
# topic, ends the check and gets that topic's answer.
SWITCH_CONFIDENCE = 0.8
NOT_A_SWITCH = {"affirm", "deny", "stop", "dont_know", "check_eligibility", "ask_why"}


def _today() -> date:
    return day_in_japan(now_jst()).first


def _span(value: str | None) -> Span | None:
    if not value:
        return None
    first, last = value.split("/")
    return Span(date.fromisoformat(first), date.fromisoformat(last))


def case_of(tracker: Tracker) -> Case:
    """The case as the slots hold it (raw, unread answers are left out)."""
    settled = {
        key: tracker.get_slot(key) for key in form_slots() if is_settled(key, tracker.get_slot(key))
    }
    return Case(
        scheme=settled.pop(SCHEME_SLOT, None),
        judged=_span(tracker.get_slot(DATE_SLOT)) or Span(_today(), _today()),
        facts={k: v for k, v in settled.items() if k not in amount_slots()},
        amounts={k: v for k, v in settled.items() if k in amount_slots()},
    )


def case_slots(case: Case) -> list[dict[str, Any]]:
    """Every form slot set from the case (None where unknown yet)."""
    values = {SCHEME_SLOT: case.scheme, **case.facts, **case.amounts}
    return [SlotSet(key, values.get(key)) for key in form_slots()] + [
        SlotSet(DATE_SLOT, f"{case.judged.first.isoformat()}/{case.judged.last.isoformat()}")
    ]


class ActionEligibilityStart(Action):
    """Opens the case from the question; says what will be checked if a
    question is needed."""

    def name(self) -> str:
        return "action_eligibility_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        if from_entities(tracker.latest_message.get("entities")) and not scheme_in(text):
            # A pasted caller number (「0570で始まる番号って何？」) is about who
            # called, whatever digits made the NLU think of eligibility.
            return [SlotSet(EXIT_SLOT, "switch")]
        topic = catalogue.entry(tracker.get_slot("topic"))
        in_context = bool(topic and topic.group == "docomo") or scheme_for_topic(
            tracker.get_slot("topic")
        )
        if not text.startswith("/") and not names_docomo(text) and not in_context:
            # Money or urgency words alone (「息子が今日中に300万円必要と」) never
            # start the check: only a question about docomo's schemes does.
            return [SlotSet(EXIT_SLOT, "switch")]
        previous = case_of(tracker)
        case = case_for_question(
            text,
            _today(),
            topic=tracker.get_slot("topic"),
            previous=previous if previous.scheme else None,
        )
        if case.scheme and case.next_question():
            dispatcher.utter_message(text=intro(case, _today()))
        events = [*case_slots(case), SlotSet(EXIT_SLOT, None), SlotSet(RETRIES_SLOT, 0.0)]
        if (tracker.latest_message.get("intent") or {}).get("name") != "check_eligibility":
            # Opened by action_answer (an eligibility question read as the
            # scheme's entry): no rule follows with the form, so start it here.
            events.append(FollowupAction("eligibility_form"))
        return events


class ValidateEligibilityForm(FormValidationAction):
    """Reads each answer; the rules engine names the one slot to ask next."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        if tracker.get_slot(EXIT_SLOT):
            return []
        nxt = case_of(tracker).next_question()
        return [nxt] if nxt else []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = []
        message = tracker.latest_message or {}
        intent = message.get("intent") or {}
        for key, value in tracker.slots_to_validate().items():
            if key not in form_slots() or is_settled(key, value) or value is None:
                continue
            # The question's own words first (「スタッフでした」 reads as an
            # answer even if the NLU hears ask_human), then a new question
            # (「知らない番号から電話が」 is not 「知らない」), then はい/いいえ.
            if urgency.detect(str(value), scam_context(tracker.get_slot("topic"))):
                # A crime in progress ends the check at once: 110 first.
                events += [SlotSet(key, None), SlotSet(EXIT_SLOT, "switch")]
                continue
            read = read_answer(key, str(value), intent.get("name"), own_only=True)
            if read is None and self._switches(intent):
                events += [SlotSet(key, None), SlotSet(EXIT_SLOT, "switch")]
                continue
            if read is None:
                read = read_answer(key, str(value), intent.get("name"))
            if read is Reply.STOP:
                events += [SlotSet(key, None), SlotSet(EXIT_SLOT, "stop")]
            elif read is not None:
                events += [SlotSet(key, read), SlotSet(RETRIES_SLOT, 0.0)]
            else:
                events += self._retry(key, tracker, dispatcher)
        return events

    @staticmethod
    def _switches(intent: dict[str, Any]) -> bool:
        name = intent.get("name")
        return (
            name not in NOT_A_SWITCH
            and dialogue.is_answered(name)
            and (intent.get("confidence") or 0) >= SWITCH_CONFIDENCE
        )

    @staticmethod
    def _retry(
        key: str, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> list[dict[str, Any]]:
        retries = int(tracker.get_slot(RETRIES_SLOT) or 0) + 1
        if retries >= MAX_RETRIES and key != SCHEME_SLOT:
            return [SlotSet(key, UNKNOWN), SlotSet(RETRIES_SLOT, 0.0)]
        if retries >= MAX_RETRIES:
            return [SlotSet(key, None), SlotSet(EXIT_SLOT, "stop")]
        kind = (
            "retry_scheme"
            if key == SCHEME_SLOT
            else "retry_amount"
            if key in amount_slots()
            else "retry_yes_no"
        )
        dispatcher.utter_message(text=say(kind))
        return [SlotSet(key, None), SlotSet(RETRIES_SLOT, float(retries))]


class AskSlot(Action):
    """Asks for one slot of the form, with its buttons."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=ask(self.slot), buttons=question_buttons(self.slot))
        return []


# One `action_ask_<slot>` per slot the form may ask (listed in domain.yml).
for _slot in form_slots():
    globals()[f"ActionAsk_{_slot}"] = type(f"ActionAsk_{_slot}", (AskSlot,), {"slot": _slot})


class ActionEligibilityResult(Action):
    """The decision with its reasons and the next step; or, when the person
    left the check, where to go on; or the answer to the new question."""

    def name(self) -> str:
        return "action_eligibility_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        case = case_of(tracker)
        exit_ = tracker.get_slot(EXIT_SLOT) or ""
        moment = now_jst()
        resets = [SlotSet(EXIT_SLOT, None), SlotSet(RETRIES_SLOT, 0.0)]
        if exit_ == "switch":
            # The new question (or the crime in progress) is answered as any turn.
            outcome = respond(turn_of(tracker))
            send(dispatcher, outcome.answer, tracker)
            return [*outcome_events(outcome), *resets]
        if exit_ == "stop":
            answer = stopped(case.scheme, moment)
        else:
            answer = result(case, moment, _today())
        answer.kind = "eligibility"
        send(dispatcher, answer, tracker)
        return [SlotSet("topic", answer.topic), SlotSet("misunderstood", 0.0), *resets]


class ActionExplainWhy(Action):
    """「なぜ？」「どうして対象外？」: the reasons of the decision in context."""

    def name(self) -> str:
        return "action_explain_why"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        case = case_of(tracker)
        in_context = scheme_for_topic(tracker.get_slot("topic"))
        if in_context and in_context != case.scheme:
            case = Case(in_context, Span(_today(), _today()), case.facts)
        answer = explain(case if case.scheme else None, now_jst(), _today())
        answer.kind = "eligibility"
        send(dispatcher, answer, tracker)
        return [SlotSet("misunderstood", 0.0)]
