"""Questions about the topic in context: where to call, is it free, is it safe...

People ask one thing and then ask about it (「それ、お金かかるん？」「どこに電話
すれば？」). One mechanism answers every follow-up for every topic: the topic
is a slot, the data is the topic's catalogue entry (its hotlines, and its
optional `cost`, `safe` and `block`), and the copy around it is in
answers.yml → `followups`. No story or rule per topic.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

from soudan import catalogue
from soudan.dialogue import (
    EMERGENCY,
    URGENT,
    Answer,
    answer,
    entry_answer,
    hours_answer,
    routed_lines,
    urgent_answer,
)
from soudan.hours import open_state
from soudan.knowledge import Button, Hotline, answers, knowledge, render
from soudan.replies import blocks, closed_note

KINDS = {"ask_where", "ask_cost", "ask_hours", "ask_what_now", "ask_safe", "ask_block", "ask_human"}
# Topics whose first step matters more than any line's hours: it is said again
# first in follow-ups about hours, cost and where to call.
FIRST_STEP_GROUPS = {"after", "payment"}
# ... and said again after them.
STEP_GROUPS = {"fraud", "sms"}

# Lines people name in a question (「188って土日は？」): each line's number and
# names from the knowledge file, and the words people use for them.
ALIASES = {
    "jinken": ["人権相談", "法務局", "人権110"],
    "police_consult": ["警察相談専用"],
    "consumer_hotline": ["消費生活センター", "消費者センター"],
    "center": ["迷惑電話対策相談センター"],
    "intl_stop": ["国際電話不取扱"],
    "docomo_support": ["あんしんサポートセンター"],
    "ntt_east_fraud": ["NTT東"],
    "ntt_west_fraud": ["NTT西"],
    "ipa": ["IPA"],
}
# Checked in this order: 「人権110番」 names the human-rights line, not 110.
NAMED_ORDER = [
    "jinken",
    "police_consult",
    "police_emergency",
    "consumer_hotline",
    "center",
    "intl_stop",
    "docomo_support",
    "houterasu",
    "ntt_east_fraud",
    "ntt_west_fraud",
    "ipa",
]


@cache
def _line_pattern(key: str) -> re.Pattern[str]:
    from soudan.knowledge import hotline

    line = hotline(key)
    digits = re.sub(r"\D", "", line.number)
    number = "-?".join(re.escape(d) for d in digits)
    words = [re.escape(w) for w in [line.short_name, *ALIASES.get(key, [])]]
    return re.compile(rf"(?<![\d\-]){number}(?!\d)|" + "|".join(words), re.IGNORECASE)


_HOURS_WORDS = re.compile(
    r"土日|土曜|日曜|祝日|休日|何時|なんじ|夜|深夜|夜中|朝|今|いま|つなが|やって|開いて|あいて|"
    r"年末|年始|正月|休み|営業|受付時間|時間"
)


def copy(key: str, **values: str) -> str:
    """The copy of answers.yml → followups, with <name> filled in by `values`."""
    text = render(answers()["followups"][key])
    for name, value in values.items():
        text = text.replace(f"<{name}>", value)
    return text


def _lines(topic: str | None) -> list[Hotline]:
    return routed_lines(topic)


def named_line(text: str) -> Hotline | None:
    """The line a message names (its number or its name), if any."""
    from soudan.knowledge import hotline
    from soudan.normalize import normalize

    norm = normalize(text or "")
    for key in NAMED_ORDER:
        if _line_pattern(key).search(norm):
            return hotline(key)
    return None


def asks_hours(text: str) -> bool:
    from soudan.normalize import normalize

    return bool(_HOURS_WORDS.search(normalize(text or "")))


def hours_of(line: Hotline, topic: str | None, moment: datetime) -> Answer:
    """The hours of a line the person named, the topic in context kept."""
    result = hours_answer(None, moment, lines=[line])
    result.topic = topic
    return result


def with_step(result: Answer, topic: str | None) -> Answer:
    """Say the topic's first step again (before the answer for the urgent
    groups, after it for the others)."""
    found = catalogue.entry(topic)
    if not found or found.group not in FIRST_STEP_GROUPS | STEP_GROUPS:
        return result
    step = copy("reminder", step=render(found.now).splitlines()[0])
    if found.group in FIRST_STEP_GROUPS:
        result.text = f"{step}\n{result.text}"
    else:
        result.details = f"{step}\n\n{result.details}".strip()
    return result


def _state(line: Hotline, moment: datetime) -> str:
    state = open_state(line, moment)
    return f"（いまは{state.label()}）" if (state.known or state.automated_open) else ""


def _web(topic: str | None) -> tuple[str, ...]:
    found = catalogue.entry(topic)
    return found.web if found else ()


def _title(topic: str | None) -> str:
    return catalogue.topic_label(topic) if topic else ""


def where(topic: str | None, moment: datetime) -> Answer:
    """「どこに電話すればいい？」: the lines of the topic, in order, with their state."""
    if topic == URGENT:
        return urgent_answer(topic, moment)
    lines = _lines(topic)
    first = lines[0]
    head = [copy("where_first", line=first.name, number=first.number, state=_state(first, moment))]
    others = [line for line in lines[1:] if line.key != EMERGENCY][:2]
    web = _web(topic)
    if others:
        names = "、".join(f"{line.short_name}（{line.number}）" for line in others)
        head.append(copy("where_also", names=names))
    elif web:
        names = "、".join(knowledge()["web_services"][k]["name"] for k in web)
        head.append(copy("where_web", names=names))
    note = closed_note(lines, moment)
    if note:
        head.append(note)
    head.append(copy("emergency"))
    details = blocks(lines, web, moment)
    return Answer("\n".join(head), [], topic, lines, details, "followup")


def line_cost(line: Hotline, topic: str | None, moment: datetime) -> Answer:
    """「188ってタダ？」: the named line's fee, then its hours; the topic kept."""
    result = hours_of(line, topic, moment)
    fee = render(line.fee_text) if line.fee_text else copy("fee_unknown")
    result.text = f"{line.short_name}（{line.number}）: {fee}\n{result.text}"
    return result


def cost(topic: str | None, moment: datetime) -> Answer:
    """「お金かかる？」「無料？」: the topic's own cost fact, then each line's fee."""
    found = catalogue.entry(topic)
    lines = [line for line in _lines(topic) if line.key != EMERGENCY] or _lines(None)
    head = []
    if found and found.cost:
        head.append(render(found.cost))
    for line in lines[:2]:
        fee = render(line.fee_text) if line.fee_text else copy("fee_unknown")
        head.append(f"{line.short_name}（{line.number}）: {fee}")
    web = _web(topic)
    details = [
        f"{knowledge()['web_services'][k]['name']}: {knowledge()['web_services'][k]['fee_text']}"
        for k in web
    ]
    details.append(copy("fee_note"))
    return Answer("\n".join(head), [], topic, lines[:2], "\n".join(details), "followup")


def what_now(topic: str | None, moment: datetime) -> Answer:
    """「どうしたらいい？」: the topic's first lines again (what to do now)."""
    if topic == URGENT:
        return urgent_answer(topic, moment)
    if catalogue.is_entry(topic):
        result = entry_answer(topic, moment)
        result.kind = "followup"
        return result
    if topic:
        result = answer(topic, topic, moment)
        result.kind = "followup"
        return result
    return no_topic("ask_what_now", moment)


def safe(topic: str | None, moment: datetime) -> Answer:
    """「出ても大丈夫？」「かけ直していい？」: never 'it is safe'; the topic's own
    advice, or the advice of its group."""
    if topic == URGENT:
        return urgent_answer(topic, moment)
    found = catalogue.entry(topic)
    group = found.group if found else "phone"
    advice = answers()["followups"]["safe"]
    text = (
        render(found.safe) if found and found.safe else render(advice.get(group, advice["default"]))
    )
    lines = _lines(topic)
    head = [text, copy("spoofing") if group in {"phone", "prefix", "fraud"} else ""]
    head = [line for line in head if line]
    first = lines[0]
    head.append(
        copy("where_first", line=first.name, number=first.number, state=_state(first, moment))
    )
    return Answer("\n".join(head), [], topic, lines, blocks(lines, _web(topic), moment), "followup")


def block(topic: str | None, moment: datetime) -> Answer:
    """「ブロックするには？」: the topic's `block` (an entry or a text), else how
    to block calls on a fixed line and on a mobile."""
    found = catalogue.entry(topic)
    target = found.block if found else None
    if target and catalogue.is_entry(target):
        result = entry_answer(target, moment)
        result.text = copy("block_lead", title=_title(topic)) + "\n" + result.text
        result.topic = topic  # the conversation is still about the same thing
        result.kind = "followup"
        return result
    group = found.group if found else "phone"
    if target:
        text = render(target)
    else:
        options = answers()["followups"]["block"]
        text = render(options.get(group, options["default"]))
    buttons = [
        Button(catalogue.topic_label("block_fixed"), "block_fixed"),
        Button(catalogue.topic_label("block_mobile"), "block_mobile"),
    ]
    if group == "sms":
        buttons = [Button(catalogue.topic_label("sms_block"), "sms_block")]
    center = routed_lines(None)
    details = blocks(center, (), moment)
    return Answer(text, buttons, topic, center, details, "followup")


def no_topic(kind: str, moment: datetime) -> Answer:
    """A follow-up with nothing in context: ask what it is about, with the menu."""
    result = answer("bot_capabilities", None, moment)
    result.text = copy("no_topic") + "\n" + copy("emergency")
    result.kind = "followup"
    return result


def respond(kind: str, topic: str | None, moment: datetime) -> Answer:
    """The follow-up `kind` (an intent of KINDS) for the topic in context."""
    if kind == "ask_hours":
        return with_step(hours_answer(topic, moment), topic)
    if kind == "ask_human":
        return with_step(answer("ask_human", topic, moment), topic)
    if kind == "ask_where":
        return with_step(where(topic, moment), topic)
    if kind == "ask_cost":
        return with_step(cost(topic, moment), topic)
    if kind == "ask_safe":
        return safe(topic, moment)
    if kind == "ask_block":
        return block(topic, moment)
    return what_now(topic, moment)
