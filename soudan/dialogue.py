"""What the assistant answers: a catalogue entry, a hand-over, a fallback, 110.

Plain logic behind the Rasa actions (which only read the tracker, call
`soudan.turn.respond` and send the result). Every answer has a head (the
first lines: what to do now and where to call) and details (the rest, with
the hotline blocks); channels show the details after the head.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from soudan import catalogue
from soudan.catalogue import Entry
from soudan.hours import open_state
from soudan.knowledge import Button, Hotline, answers, hotline, knowledge, render, reply_for
from soudan.phone import Caller, Prefix
from soudan.replies import blocks, closed_note, compose_parts

# Consecutive misunderstood messages after which the bot stops guessing.
ESCALATE_AFTER = 2
# Intents answered by code (here, in followups, or by the eligibility
# actions) rather than by a text in answers.yml.
COMPUTED = {
    "ask_hours",
    "check_eligibility",
    "ask_why",
    "ask_where",
    "ask_cost",
    "ask_what_now",
    "ask_safe",
    "ask_block",
    "faq",
}
# Intents that hand over to a person: they show the fitting line's state and,
# when it is closed, what to do meanwhile.
HANDOVER = {"ask_human", "escalate"}
DEFAULT_LINE = "center"
URGENT = "crime_in_progress"
EMERGENCY = "police_emergency"


@dataclass
class Answer:
    text: str  # the head: what to do now and where to call
    buttons: list[Button] = field(default_factory=list)
    topic: str | None = None  # the topic now in context, for later questions
    lines: list[Hotline] = field(default_factory=list)  # the hotlines the text offers
    details: str = ""  # the rest, shown after the head (「くわしく」 on the web)
    kind: str = "answer"  # answer | followup | fallback | urgent | eligibility | smalltalk
    review: str | None = None  # why staff should look at this turn
    prefixes: list[str] = field(default_factory=list)  # number beginnings asked about

    @property
    def urgent(self) -> bool:
        return self.kind == "urgent"

    @property
    def full_text(self) -> str:
        return f"{self.text}\n\n{self.details}" if self.details else self.text

    def button_dicts(self) -> list[dict[str, str]]:
        """Quick replies, then one tap-to-call button per hotline (payload `tel:`).

        Channels that can dial (web, LINE) turn `tel:` payloads into links;
        the others show the number, which the text carries anyway.
        """
        return [{"title": b.title, "payload": b.payload} for b in self.buttons] + [
            {"title": f"{line.short_name}に電話", "payload": line.tel_uri} for line in self.lines
        ]


# ---------------------------------------------------------------------------
# Topics: a catalogue entry, or an intent of answers.yml with hotlines
# ---------------------------------------------------------------------------


def topic_hotline_keys(topic: str | None) -> list[str]:
    found = catalogue.entry(topic)
    if found:
        return list(found.hotlines)
    keys = (answers().get(topic) or {}).get("hotlines") if topic else None
    return list(keys or [])


def routed_lines(topic: str | None) -> list[Hotline]:
    """The hotlines that fit a topic, in the order to call them.

    The routing table is the `hotlines` list of each catalogue entry (and of
    the answers.yml intents that are topics): crime in progress → the
    emergency line first; damage done → the police consultation line and
    the consumer hotline; calls and numbers → the center; SNS trouble → the
    public lines for net trouble. Without a topic, the center.
    """
    return [hotline(key) for key in (topic_hotline_keys(topic) or [DEFAULT_LINE])]


def is_topic(intent: str | None) -> bool:
    if catalogue.is_entry(intent):
        return True
    spec = answers().get(intent) or {}
    return bool(spec.get("hotlines")) and intent not in HANDOVER | {"nlu_fallback", "bad_input"}


def is_answered(intent: str | None) -> bool:
    """Whether the intent gets a real answer: a topic, a follow-up, a hand-over or
    goodbye (not small talk, not a fallback)."""
    return bool(intent) and (
        is_topic(intent) or intent in HANDOVER | COMPUTED | {"goodbye", URGENT}
    )


# ---------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------


def _buttons(pairs) -> list[Button]:
    return [Button(title, target) for title, target in pairs]


def _hotlines(keys) -> list[Hotline]:
    return [hotline(key) for key in keys]


def entry_answer(key: str, moment: datetime, *, lead: str | None = None) -> Answer:
    """A catalogue entry: its two lines (and a note when its line is closed now),
    then its details and the hotline blocks.

    `lead`: a line put before the head (what a pasted number is).
    """
    found = catalogue.entry(key)
    if found is None:
        return answer("nlu_fallback", None, moment)
    return render_entry(found, moment, lead=lead)


def render_entry(found: Entry, moment: datetime, *, lead: str | None = None) -> Answer:
    """The answer of an entry object (a catalogue entry, or a staff draft to preview)."""
    lines = _hotlines(found.hotlines)
    head = render(found.now)
    note = closed_note(lines, moment)
    if note:
        head += "\n" + note
    if lead:
        head = f"{lead}\n{head}"
    details = render(found.details).strip()
    tail = blocks(lines, found.web, moment)
    details = f"{details}\n\n{tail}".strip() if tail else details
    return Answer(head, _buttons(found.buttons), found.key, lines, details, "answer")


def family_answer(family_key: str, keys: list[str], moment: datetime) -> Answer | None:
    """The safe answer two confusable entries share, with both as buttons."""
    fam = catalogue.family(family_key)
    if fam is None:
        return None
    lines = _hotlines(fam.hotlines)
    head = render(fam.now)
    note = closed_note(lines, moment)
    if note:
        head += "\n" + note
    choices = [e for e in (catalogue.entry(k) for k in keys) if e]
    details = "くわしく知りたい内容を選んでください。\n\n" + blocks(lines, (), moment)
    buttons = [Button(e.title, e.key) for e in choices]
    return Answer(head, buttons, choices[0].key if choices else None, lines, details, "answer")


def answer(intent: str, topic: str | None, moment: datetime) -> Answer:
    """An answer written in answers.yml (small talk, hand-over, 110), or an entry."""
    if catalogue.is_entry(intent):
        return entry_answer(intent, moment)
    if intent == "ask_hours":
        return hours_answer(topic, moment)
    reply = reply_for(intent)
    if intent in HANDOVER:
        reply = replace(reply, hotlines=routed_lines(topic))
    new_topic = intent if is_topic(intent) else topic
    head, details = compose_parts(reply, moment, meanwhile=intent in HANDOVER)
    kind = "urgent" if intent == URGENT else "answer" if is_topic(intent) else "smalltalk"
    if intent in HANDOVER:
        kind = "followup"
        note = closed_note(reply.hotlines, moment)
        if note:
            head += "\n" + note
    return Answer(head, reply.buttons, new_topic, reply.hotlines, details, kind)


def hours_answer(topic: str | None, moment: datetime, lines: list[Hotline] | None = None) -> Answer:
    """「今つながりますか」「土曜日は？」「祝日も？」「年末年始は？」「何時まで？」.

    Answered for the lines of the topic in context (the center by default):
    their hours, whether each is open now, and the year-end closure.
    """
    if lines is None:
        lines = [line for line in routed_lines(topic) if line.key != EMERGENCY] or routed_lines(
            None
        )
    first = lines[0]
    head_lines = []
    for line in lines[:2]:
        state = open_state(line, moment)
        status = f"いまは{state.label()}です。" if (state.known or state.automated_open) else ""
        head_lines.append(f"{line.name} {line.number} は、{line.hours_text}。{status}")
    details = []
    schedule = first.schedule if isinstance(first.schedule, dict) else {}
    closure = schedule.get("year_end_closure")
    if closure:
        dates = closure if isinstance(closure, dict) else knowledge()["year_end_closure"]
        start_m, start_d = (int(x) for x in dates["from"].split("-"))
        end_m, end_d = (int(x) for x in dates["until"].split("-"))
        details.append(
            f"{first.short_name}の年末年始のお休みは{start_m}月{start_d}日〜{end_m}月{end_d}日です。"
        )
    if first.note:
        details.append(first.note)
    details.append(
        render(
            "いま犯罪が起きている、危険が迫っているときは{hotline.police_emergency.number}番です。"
        )
    )
    return Answer("\n".join(head_lines), [], topic, lines[:2], "\n".join(details), "followup")


def urgent_answer(
    topic: str | None,
    moment: datetime,
    trigger_kind: str | None = None,
    already: str | None = None,
) -> Answer:
    """110 first, then what not to do (by what is happening: the door, the ATM...),
    then, when the message says something was already done (a card handed
    over, money sent), the first step of that entry: 110 does not stop a card."""
    reply = reply_for(URGENT)
    spec = answers().get(URGENT) or {}
    # The broad net names its kinds "now:<concept>".
    kind = (trigger_kind or "").removeprefix("now:")
    dont = spec.get("dont", {}).get(kind)
    lines = reply.text.splitlines()
    extra = [render(dont)] if dont else []
    done_entry = catalogue.entry(already)
    if done_entry and done_entry.now:
        step = render(done_entry.now).splitlines()[0]
        extra.append(render(spec["already"]).replace("<step>", step))
    text = "\n".join([lines[0], *extra, *lines[1:]])
    head, details = compose_parts(replace(reply, text=text), moment)
    return Answer(head, reply.buttons, URGENT, reply.hotlines, details, "urgent")


# ---------------------------------------------------------------------------
# Numbers: a pasted number, a display word, or a question about a prefix
# ---------------------------------------------------------------------------

# At most this many numbers are explained in one reply.
MAX_CALLERS = 3


def _caller_line(caller: Caller) -> str:
    numbering = knowledge()["numbering"]
    if caller.kind == "display":
        return numbering["display_words"][caller.word] + "。"
    about = render(numbering["kinds"][caller.kind])
    if caller.known:
        return f"{caller.display}は、{caller.known.name}の番号です。"
    if caller.kind == "fixed" and caller.area:
        return f"{caller.display}は、{caller.area}の{about}。"
    if caller.kind == "international":
        where = f"{caller.country}からの" if caller.country else "海外からの"
        return f"{caller.display}は、{where}{about}。"
    if caller.kind == "starts_with_9":
        return f"{caller.display}: {about}。"
    return f"{caller.display}は、{about}。"


def _prefix_line(prefix: Prefix) -> str | None:
    if prefix.value.startswith("+") and len(prefix.value) > 1:
        if prefix.country == "日本":
            return f"「{prefix.value}」は日本の国番号です。"
        where = f"（{prefix.country}）" if prefix.country else ""
        return f"「{prefix.value}」から始まる番号は、海外からの国際電話です{where}。"
    return None


def number_entry(callers: list[Caller], prefixes: list[Prefix]) -> str | None:
    """The catalogue entry that answers the first number or prefix of a message."""
    from soudan.phone import DISPLAY_ENTRIES, KIND_ENTRIES

    if callers:
        first = callers[0]
        if first.kind == "display":
            return DISPLAY_ENTRIES.get(first.word or "")
        return KIND_ENTRIES.get(first.kind, "unknown_number")
    if prefixes:
        return prefixes[0].entry
    return None


def number_answer(
    callers: list[Caller], prefixes: list[Prefix], moment: datetime, entry_key: str | None = None
) -> Answer:
    """What each number or display word is (first line), then the answer of its
    kind's entry. Never says that a number is safe or that it is a fraudster's:
    caller numbers can be spoofed (knowledge.yml numbering.spoofing)."""
    leads = [_caller_line(c) for c in callers[:MAX_CALLERS]]
    leads += [line for p in prefixes if (line := _prefix_line(p))]
    if len(callers) > MAX_CALLERS:
        leads.append(
            f"（ほかに{len(callers) - MAX_CALLERS}件の番号があります。1件ずつ送ってください）"
        )
    key = entry_key or number_entry(callers, prefixes) or "unknown_number"
    if any(c.known for c in callers) and not any(not c.known for c in callers):
        key = "unknown_number"
    result = entry_answer(key, moment, lead="\n".join(leads) or None)
    spoofing = render("{numbering.spoofing}") + "。"
    if spoofing not in result.full_text:
        result.details = f"{spoofing}\n{result.details}".strip()
    result.prefixes = [p.value for p in prefixes] + [_kind_prefix(c) for c in callers]
    result.prefixes = [p for p in result.prefixes if p]
    return result


def _kind_prefix(caller: Caller) -> str | None:
    """The beginning of a pasted number, for counting what people ask about
    (never the whole number: it may be personal)."""
    if caller.kind == "display":
        return caller.word
    digits = "".join(ch for ch in caller.raw if ch.isdigit() or ch == "+")
    if digits.startswith("+"):
        return digits[:3]
    for size in (4, 3):
        if digits[:size] in {
            "0120",
            "0800",
            "0570",
            "0990",
            "050",
            "070",
            "080",
            "090",
            "020",
            "060",
        }:
            return digits[:size]
    return digits[:2] if digits.startswith("0") else digits[:1]


# ---------------------------------------------------------------------------
# Not understood
# ---------------------------------------------------------------------------


def fallback(
    text_has_words: bool,
    misses: int,
    topic: str | None,
    moment: datetime,
    candidates: list[str] | None = None,
) -> Answer:
    """The reply to a message the bot did not understand (misses counts this one).

    It offers the most likely topics as 「もしかして」 buttons, always names 110
    for emergencies and a line that is open now (never only a closed line),
    and after two misses hands over to the line of the topic in context.
    """
    if not text_has_words:
        result = answer("bad_input", topic, moment)
        result.kind = "fallback"
        return result
    if misses >= ESCALATE_AFTER:
        result = answer("escalate", topic, moment)
        result.kind = "fallback"
        return result
    reply = reply_for("nlu_fallback")
    options = [catalogue.entry(c) for c in candidates or []]
    options = [e for e in options if e][:2]
    text = reply.text
    if options:
        text = render((answers().get("nlu_fallback") or {}).get("maybe", text))
    lines = [line for line in routed_lines(topic) if line.key != EMERGENCY][:1] or _hotlines(
        [DEFAULT_LINE]
    )
    lines = [*_with_open_line(lines, moment), hotline(EMERGENCY)]
    head = (
        text
        + "\n"
        + render(
            "いま危険が迫っているときは、すぐ{hotline.police_emergency.number}番に電話してください。"
        )
    )
    note = closed_note(lines, moment)
    if note:
        head += "\n" + note
    buttons = [Button(e.title, e.key) for e in options]
    buttons += [b for b in reply.buttons if b.intent not in {x.intent for x in buttons}]
    return Answer(head, buttons, topic, lines, blocks(lines, (), moment), "fallback")


# Lines to offer when the fitting one is closed now, in this order (a line
# whose state is known and open: 188 takes calls on weekends and holidays).
OPEN_ALTERNATIVES = ["center", "consumer_hotline"]


def _with_open_line(lines: list[Hotline], moment: datetime) -> list[Hotline]:
    if any(open_state(line, moment).reachable for line in lines):
        return lines
    for key in OPEN_ALTERNATIVES:
        candidate = hotline(key)
        if candidate not in lines and open_state(candidate, moment).reachable:
            return [*lines, candidate]
    return lines
