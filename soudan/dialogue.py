"""What the assistant answers, given the intent, the topic in context and the moment.

Plain logic behind the Rasa actions: the actions only read the tracker,
call these functions and send the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from soudan.hours import open_state
from soudan.knowledge import Button, Hotline, Reply, answers, hotline, knowledge, render, reply_for
from soudan.phone import Caller
from soudan.replies import compose

# Consecutive misunderstood messages after which the bot stops guessing.
ESCALATE_AFTER = 2
# Intents answered by code (here, or by the eligibility actions) rather than
# by a text in answers.yml.
COMPUTED = {"ask_hours", "check_eligibility", "ask_why"}
# Intents that hand over to a person: they show the fitting line's state and,
# when it is closed, what to do meanwhile.
HANDOVER = {"ask_human", "escalate"}
DEFAULT_LINE = "center"


@dataclass
class Answer:
    text: str
    buttons: list[Button] = field(default_factory=list)
    topic: str | None = None  # the topic now in context, for later questions
    lines: list[Hotline] = field(default_factory=list)  # the hotlines the text offers

    def button_dicts(self) -> list[dict[str, str]]:
        """Quick replies, then one tap-to-call button per hotline (payload `tel:`).

        Channels that can dial (web, LINE) turn `tel:` payloads into links;
        the others show the number, which the text carries anyway.
        """
        return [{"title": b.title, "payload": b.payload} for b in self.buttons] + [
            {"title": f"{line.short_name}に電話", "payload": line.tel_uri} for line in self.lines
        ]


def routed_lines(topic: str | None) -> list[Hotline]:
    """The hotlines that fit a topic, in the order to call them.

    The routing table is the `hotlines` list of each intent in answers.yml:
    crime in progress → the emergency line first; damage done → the police
    consultation line and the consumer hotline; calls and
    numbers → the center (and 国際電話不取扱受付センター for stopping
    international calls); SNS trouble → docomo's center. Without a topic, the
    center.
    """
    keys = (answers().get(topic) or {}).get("hotlines") if topic else None
    return [hotline(key) for key in (keys or [DEFAULT_LINE])]


def is_topic(intent: str) -> bool:
    spec = answers().get(intent) or {}
    return bool(spec.get("hotlines")) and intent not in HANDOVER | {"nlu_fallback", "bad_input"}


def is_answered(intent: str | None) -> bool:
    """Whether `answer` has a real answer for the intent: a topic, hours, a
    hand-over or goodbye (not small talk, not a fallback)."""
    return bool(intent) and (is_topic(intent) or intent in HANDOVER | {"ask_hours", "goodbye"})


def answer(
    intent: str, topic: str | None, moment: datetime, callers: list[Caller] | None = None
) -> Answer:
    if callers and intent in NUMBER_INTENTS:
        return caller_answer(callers, topic, moment)
    if intent == "ask_hours":
        return hours_answer(topic, moment)
    reply = reply_for(intent)
    if intent in HANDOVER:
        reply = replace(reply, hotlines=routed_lines(topic))
    new_topic = intent if is_topic(intent) else topic
    text = compose(reply, moment, meanwhile=intent in HANDOVER)
    return Answer(text, reply.buttons, new_topic, reply.hotlines)


def fallback(
    text_has_words: bool,
    misses: int,
    topic: str | None,
    moment: datetime,
    callers: list[Caller] | None = None,
) -> Answer:
    """The reply to a message the bot did not understand (misses counts this one)."""
    if callers:
        return caller_answer(callers, topic, moment)
    if not text_has_words:
        return answer("bad_input", topic, moment)
    if misses >= ESCALATE_AFTER:
        return answer("escalate", topic, moment)
    return answer("nlu_fallback", topic, moment)


def hours_answer(topic: str | None, moment: datetime) -> Answer:
    """「今つながりますか」「土曜日は？」「祝日も？」「年末年始は？」「何時まで？」.

    Answered for the first line of the topic in context (the center by
    default): its hours, whether it is open now, and its closed days.
    """
    line = routed_lines(topic)[0]
    state = open_state(line, moment)
    lines = [f"{line.name} {line.number} の受付時間は、{line.hours_text}です。"]
    if state.known:
        lines.append(f"いまは{state.label()}です。")
        schedule = line.schedule if isinstance(line.schedule, dict) else {}
        if schedule.get("year_end_closure"):
            closure = knowledge()["year_end_closure"]
            start_m, start_d = (int(x) for x in closure["from"].split("-"))
            end_m, end_d = (int(x) for x in closure["until"].split("-"))
            lines.append(f"年末年始は{start_m}月{start_d}日〜{end_m}月{end_d}日がお休みです。")
    if line.note:
        lines.append(line.note)
    return Answer("\n".join(lines), [], topic, [line])


# Intents after which a number in the message gets the number's own answer:
# the message is about who called.
NUMBER_INTENTS = {
    "faq_unknown_number",
    "faq_number_starts_with_9",
    "faq_answered_suspicious",
    "faq_stop_international",
    "nlu_fallback",
    "out_of_scope",
    "greet",
}
# At most this many numbers are explained in one reply.
MAX_CALLERS = 3


def caller_answer(callers: list[Caller], topic: str | None, moment: datetime) -> Answer:
    """What each number or display word is, and what to do about it.

    Never says that a number is safe or that it is a fraudster's: caller
    numbers can be spoofed (knowledge.yml numbering.spoofing).
    """
    numbering = knowledge()["numbering"]
    lines = []
    abroad = False
    for caller in callers[:MAX_CALLERS]:
        if caller.kind == "display":
            lines.append(numbering["display_words"][caller.word] + "。")
            abroad = abroad or caller.word in {"表示圏外", "通知不可能"}
            continue
        about = render(numbering["kinds"][caller.kind])
        if caller.known:
            lines.append(f"{caller.display}は、{caller.known.name}の番号です。")
        elif caller.kind == "fixed" and caller.area:
            lines.append(f"{caller.display}は、{caller.area}の{about}。")
        elif caller.kind == "international":
            where = f"{caller.country}からの" if caller.country else "海外からの"
            lines.append(f"{caller.display}は、{where}{about}。")
            abroad = True
        elif caller.kind == "starts_with_9":
            lines.append(f"{caller.display}: {about}。{render('{advice.number_starts_with_9}')}。")
        else:
            lines.append(f"{caller.display}は、{about}。")
    if len(callers) > MAX_CALLERS:
        lines.append(
            f"（ほかに{len(callers) - MAX_CALLERS}件の番号があります。1件ずつ送ってください）"
        )
    lines.append(render("{numbering.spoofing}") + "。")
    lines.append(render("{advice.unknown_number.0}") + "。")
    lines.append(render("{advice.unknown_number.1}") + "。")
    keys = ["center"]
    if abroad:
        lines.append(render("{advice.international_share}") + "。")
        lines.append("国際電話を止めたいときは、国際電話不取扱受付センターで無料で申し込めます。")
        keys = ["intl_stop", "center"]
    reply = Reply("caller_number", "\n".join(lines), [], [hotline(k) for k in keys])
    buttons = [Button("国際電話を止めたい", "faq_stop_international")] if abroad else []
    buttons.append(Button("電話に出てしまった", "faq_answered_suspicious"))
    return Answer(
        compose(reply, moment),
        buttons,
        "faq_stop_international" if abroad else "faq_unknown_number",
        reply.hotlines,
    )
