"""Eligibility answers in Japanese: the decision, one reason per rule, the next step.

Plain logic behind the eligibility actions (no Rasa import): the actions keep
the person's answers in slots and call these functions. Copy is in
eligibility_copy.yml, facts in knowledge.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from soudan.case_text import (
    Reply,
    amounts_in,
    answer_to,
    facts_in,
    format_yen,
    scheme_in,
    wants_to_stop,
    yen_in,
)
from soudan.dates import Span, parse_date
from soudan.dialogue import Answer, routed_lines
from soudan.eligibility import (
    UNKNOWN,
    Decision,
    amount_keys,
    decide,
    fact_keys,
    most_payable,
    question,
    scheme_for_topic,
    schemes,
    topic_of,
)
from soudan.knowledge import Button, render
from soudan.knowledge import Reply as KnowledgeReply
from soudan.replies import compose

# The form slot that holds which scheme is being checked.
SCHEME_SLOT = "elig_scheme"
COPY_FILE = Path(__file__).resolve().parent / "eligibility_copy.yml"
_FIELD = re.compile(r"\{\$([a-z_]+)\}")


@lru_cache(maxsize=1)
def copy() -> dict[str, Any]:
    with COPY_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def say(key: str, **fields: str) -> str:
    """A line of copy with its run-time fields, then its knowledge placeholders."""
    text = _FIELD.sub(lambda m: fields[m.group(1)], copy()[key])
    return render(text)


@dataclass
class Case:
    """What is known of the person's case: the scheme (None until known), the
    date judged, the facts (True/False/UNKNOWN) and, for the fraud cover, the
    amounts (yen or UNKNOWN)."""

    scheme: str | None
    judged: Span
    facts: dict[str, Any] = field(default_factory=dict)
    amounts: dict[str, Any] = field(default_factory=dict)

    def decision(self) -> Decision:
        assert self.scheme, "no scheme yet"
        return decide(self.scheme, self.judged, self.facts)

    def next_question(self) -> str | None:
        """The key of the one thing to ask next (the scheme, a fact or an
        amount), or None when there is nothing more to ask."""
        if self.scheme is None:
            return SCHEME_SLOT
        decision = self.decision()
        if decision.ask:
            return decision.ask
        if decision.eligible:
            for key in amount_keys(self.scheme):
                if self.amounts.get(key) is None:
                    return key
        return None


def case_for_question(
    text: str,
    today: date,
    *,
    topic: str | None = None,
    previous: Case | None = None,
) -> Case:
    """The case a question such as 「auでも使える？」「2020年7月10日なら？」 opens.

    The scheme is the one the text names, else the previous check's (a
    follow-up like 「8月31日なら？」), else the topic's, else still to ask. The
    date is the one named, else the previous check's for a follow-up on the
    same scheme, else today in Japan. Facts the person gave before are kept
    (they are about the person); the text's own facts and amounts win; facts
    left unknown are asked again.
    """
    named = scheme_in(text)
    scheme = named or (previous.scheme if previous else None) or scheme_for_topic(topic)
    judged = parse_date(text, today)
    if judged is None:
        same = previous is not None and previous.scheme == scheme
        judged = previous.judged if same else Span(today, today)
    facts = {k: v for k, v in (previous.facts if previous else {}).items() if v != UNKNOWN}
    facts |= facts_in(text)
    amounts = amounts_in(text) if scheme == "fraud_cover" else {}
    return Case(scheme, judged, facts, amounts)


def date_text(judged: Span, today: date) -> str:
    if judged.first == judged.last == today:
        return say("today", date=judged.text)
    return judged.text


def intro(case: Case, today: date) -> str:
    """What to do now for this scheme (if anything), what will be checked, and
    the line that can answer instead."""
    first = copy().get("first", {}).get(case.scheme or "")
    lines = [render(first)] if first else []
    lines.append(say("intro", name=case.decision().name, date=date_text(case.judged, today)))
    lines.append(say("intro_line"))
    return "\n".join(lines)


def _cover_lines(amounts: dict[str, Any]) -> list[str]:
    """The arithmetic of the payment-fraud cover, when the amounts are known."""
    loss, provider = amounts.get("loss_yen"), amounts.get("provider_paid_yen")
    lines = []
    if isinstance(loss, int) and isinstance(provider, int):
        most = most_payable(loss, provider)
        fields = {"loss": format_yen(loss), "provider": format_yen(provider)}
        if most:
            lines.append(say("cover_most", most=format_yen(most), **fields))
        else:
            lines.append(say("cover_nothing_left", **fields))
    else:
        lines.append(say("cover_cap"))
    lines.append(say("cover_no_promise"))
    return lines


def decision_text(case: Case, today: date, *, again: bool = False) -> str:
    """The decision first (or, when the period is over, that it is over), then
    one ○/× line per rule judged, what is still unknown, and the terms' date."""
    decision = case.decision()
    fields = {"name": decision.name, "date": date_text(case.judged, today)}
    lines = []
    if again:
        lines.append(say("why_again", **fields))
    elif decision.ended and not decision.eligible:
        lines.append(say("ended", name=decision.name, period=decision.ended))
    if not again:
        if decision.eligible is None:
            lines.append(say("open", **fields))
        elif decision.eligible and decision.partly:
            lines.append(say("partly", **fields))
        elif decision.eligible:
            key = f"yes_{case.scheme}" if f"yes_{case.scheme}" in copy() else "yes"
            lines.append(say(key, **fields))
        else:
            lines.append(say("no", **fields))
    if decision.reasons:
        lines.append(say("why"))
        for reason in sorted(decision.reasons, key=lambda r: r.met):
            mark = say("met_mark" if reason.met else "unmet_mark")
            lines.append(f"{mark} {reason.text}")
    if decision.unknown:
        lines.append(say("unknown", facts="・".join(question(k) for k in decision.unknown)))
    if case.scheme == "fraud_cover" and decision.eligible is not False:
        lines += _cover_lines(case.amounts)
    lines.append(say("current_terms"))
    return "\n".join(lines)


# Where someone whose line is not docomo's can go instead (a catalogue entry).
NOT_DOCOMO_TOPIC = "net_help_general"


def next_step(text: str, scheme: str, moment: datetime, topic: str | None = None) -> Answer:
    """The decision, then the hotlines of the scheme's topic with their state.

    One message: the decision's reasons and where to ask belong together.
    """
    topic = topic or topic_of(scheme)
    lines = routed_lines(topic)
    text = compose(KnowledgeReply(topic, text, [], lines), moment)
    return Answer(text, [], topic, lines, "", "eligibility")


def result(case: Case, moment: datetime, today: date) -> Answer:
    text = decision_text(case, today)
    if case.facts.get("docomo_line") is False:
        return next_step(f"{text}\n{say('not_docomo')}", case.scheme, moment, NOT_DOCOMO_TOPIC)
    return next_step(text, case.scheme, moment)


def explain(case: Case | None, moment: datetime, today: date) -> Answer:
    """「なぜ？」: the reasons of the last decision, again."""
    if case is None:
        return Answer(say("no_decision"))
    return next_step(decision_text(case, today, again=True), case.scheme, moment)


def stopped(scheme: str | None, moment: datetime) -> Answer:
    if scheme is None:
        return Answer(say("stopped"))
    return next_step(say("stopped"), scheme, moment)


def question_buttons(key: str) -> list[dict[str, str]]:
    """Buttons under a question: the schemes (their title is sent as text and
    read by case_text), or はい/いいえ/わからない/やめる (sent as intents)."""
    if key == SCHEME_SLOT:
        return [{"title": t, "payload": t} for t in copy()["scheme_buttons"].values()]
    spec = "amount_buttons" if key.endswith("_yen") else "answer_buttons"
    return [{"title": b.title, "payload": b.payload} for b in _buttons(copy()[spec])]


def _buttons(pairs: list[list[str]]) -> list[Button]:
    return [Button(title, intent) for title, intent in pairs]


def ask(key: str) -> str:
    """The question for a fact, an amount, or which scheme."""
    return say("ask_scheme") if key == SCHEME_SLOT else question(key)


def read_answer(key: str, text: str, intent: str | None, *, own_only: bool = False) -> Any:
    """The value an answer gives the asked slot: a scheme, True/False, yen, or
    UNKNOWN; Reply.STOP to leave the check; None when it cannot be read.

    With `own_only`, a bare はい/いいえ/わからない does not count (see
    case_text.answer_to): the caller first checks whether the message is a
    new question instead.
    """
    if key == SCHEME_SLOT:
        return Reply.STOP if wants_to_stop(text, intent) else scheme_in(text)
    if key in amount_slots():
        if wants_to_stop(text, intent):
            return Reply.STOP
        yen = yen_in(text, zero_words=key == "provider_paid_yen")
        if yen is not None or own_only:
            return yen
        return UNKNOWN if answer_to(key, text, intent) is Reply.UNKNOWN else None
    value = answer_to(key, text, intent, own_only=own_only)
    return UNKNOWN if value is Reply.UNKNOWN else value


def is_settled(key: str, value: Any) -> bool:
    """Whether a slot already holds a read answer (and not raw text)."""
    if key == SCHEME_SLOT:
        return value in schemes()
    if key in amount_slots():
        return value == UNKNOWN or (isinstance(value, int) and not isinstance(value, bool))
    return isinstance(value, bool) or value == UNKNOWN


def amount_slots() -> list[str]:
    return [key for scheme in schemes() for key in amount_keys(scheme)]


def form_slots() -> list[str]:
    """Every slot the eligibility form may ask, in no particular order."""
    return [SCHEME_SLOT, *fact_keys(), *amount_slots()]
