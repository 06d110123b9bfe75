"""One turn of a conversation: what the NLU read, what is in context, what to say.

`respond(turn)` is the single decision behind the answering action (and the
eligibility form when a new question ends it). In order:

1. a crime in progress wins in any turn: 110 first;
2. a button names its entry; a number or a prefix gets the number's answer;
3. a catalogue question gets its entry, or, when two entries that share a
   safe answer stay close, that shared answer;
4. a follow-up (where, cost, hours, what now, safe, block, a person) is
   answered for the topic in context;
5. small talk is small talk only when it looks like it (「これ出ても大丈夫？」
   is not goodbye), and yes/no words are answers only when the bot asked a
   question;
6. otherwise an honest fallback with the likely topics as 「もしかして」 buttons.

Plain module: the action turns the tracker into a `Turn`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from soudan import catalogue, done, followups, urgency
from soudan.case_text import names_docomo, names_other_carrier, scheme_in
from soudan.dialogue import (
    URGENT,
    Answer,
    answer,
    entry_answer,
    fallback,
    family_answer,
    number_answer,
    urgent_answer,
)
from soudan.eligibility import scheme_for_topic
from soudan.knowledge import Button, answers, render
from soudan.normalize import has_words, normalize
from soudan.phone import Caller, Prefix

# The ResponseSelector's confidence from which a catalogue entry is answered
# plainly; between ENTRY_MAYBE and it, the entry is answered with a word that
# it may not be what was meant and the other readings as buttons; under
# ENTRY_MAYBE, the bot says it did not understand and offers the readings.
# (On the held-out set, the top entry is right 87% of the time at 0.5–0.6,
# 78% at 0.4–0.5, 47% at 0.2–0.3.)
ENTRY_SURE = 0.5
ENTRY_MAYBE = 0.25
# Under ENTRY_MAYBE, an entry far ahead of the next one (this many times its
# confidence, and at least ENTRY_LEAD_MIN) is still answered as a maybe: on
# the held-out set such a lead is right about 70% of the time, and a hedged
# answer with the other readings as buttons helps more than "not understood".
ENTRY_LEAD_RATIO = 2.5
ENTRY_LEAD_MIN = 0.12
# The second entry of the same family, at least this share of the first's
# confidence, makes the reading ambiguous: the family's shared answer.
AMBIGUOUS_SHARE = 0.5
# A follow-up intent at least this sure, second to an unsure reading, is taken
# when a topic is in context.
FOLLOWUP_MIN = 0.15
# A follow-up that also names a new topic this surely is about that topic
# (「ワン切りってブロックできる？」).
NEW_TOPIC_MIN = 0.8
# A question this short, about the topic in context, gets the topic's answer
# again when the model cannot place it.
CONTEXT_QUESTION_MIN, CONTEXT_QUESTION_MAX = 4, 40
# A message this long at least, with two unsure readings that share a safe
# answer, gets that answer (「あのですね」 is too short to be about anything).
SHARED_MIN_LENGTH = 10
# Candidates offered by a fallback need at least this confidence.
CANDIDATE_MIN = 0.08
# The model's confidence in crime_in_progress, even second or third, from
# which a message is answered as urgent.
URGENT_MIN = 0.25
# The NLU's confidence below which a small-talk reading of a question is doubted.
SMALLTALK_SURE = 0.9

SMALLTALK = {"greet", "thank", "goodbye", "bot_capabilities", "out_of_scope"}
YES_NO = {"affirm", "deny", "stop", "dont_know"}
# Words that say the previous answer was not what the person meant.
_CORRECTION = re.compile(
    r"違う|ちがう|ちゃう|ちゃいます|そうじゃな|そういうことじゃな|じゃなくて|そっちじゃ|全然|間違"
)
_QUESTION = re.compile(r"[?？]|ですか|ますか|かな$|の$|って$|大丈夫|いい$|いいの|どう|何|なに|なん")


@dataclass
class Turn:
    text: str
    intent: str | None
    confidence: float = 0.0
    ranking: list[tuple[str, float]] = field(default_factory=list)  # intents
    selector: list[tuple[str, float]] = field(default_factory=list)  # catalogue entries
    entry: str | None = None  # named by a button
    callers: list[Caller] = field(default_factory=list)
    prefixes: list[Prefix] = field(default_factory=list)
    topic: str | None = None
    misses: int = 0  # misunderstood messages in a row before this one
    asked: bool = False  # the bot's last message asked a yes/no question
    candidates: list[str] = field(default_factory=list)  # other readings of the last message
    moment: datetime | None = None


@dataclass
class Outcome:
    answer: Answer
    misses: int = 0
    candidates: list[str] = field(default_factory=list)  # other readings of this message


def _button(text: str) -> bool:
    return text.startswith("/")


def _selector_top(turn: Turn) -> tuple[str | None, float]:
    if not turn.selector:
        return None, 0.0
    key, conf = turn.selector[0]
    return (key, conf) if catalogue.is_entry(key) else (None, 0.0)


def _alternatives(turn: Turn, answered: str | None) -> list[str]:
    return [
        key
        for key, conf in turn.selector[:4]
        if conf >= CANDIDATE_MIN and key != answered and catalogue.is_entry(key)
    ][:3]


def scam_context(topic: str | None) -> bool:
    found = catalogue.entry(topic)
    return topic == URGENT or bool(found and found.group in {"fraud", "after", "payment"})


def looks_like_smalltalk(text: str) -> bool:
    """Short, and not a question: 「ありがとう」「はい」「さようなら」."""
    norm = normalize(text)
    return len(norm) <= 12 and not _QUESTION.search(norm)


def respond(turn: Turn) -> Outcome:
    moment = turn.moment
    text = turn.text or ""
    intent = turn.intent or "nlu_fallback"
    button = _button(text)
    if not button:
        # Readings the message cannot be about (an entry's `requires` words).
        turn.selector = [(k, c) for k, c in turn.selector if catalogue.plausible(k, text)]

    # 1. A crime in progress: 110 first, whatever else the message says. The
    # model's reading counts even as a runner-up: a needless 110 costs a
    # line, a missed one costs a person's savings.
    trigger = None if button else urgency.detect(text, scam_context(turn.topic))
    urgent_read = (
        not button
        and any(
            name == URGENT and confidence >= URGENT_MIN for name, confidence in turn.ranking[:3]
        )
        and urgency.model_may_be_urgent(text)
    )
    if trigger or urgent_read or (button and intent == URGENT):
        result = urgent_answer(
            turn.topic, moment, trigger.kind if trigger else None, done.entry_of(text)
        )
        return Outcome(result, 0, _alternatives(turn, None))
    if intent == URGENT:
        # The model's urgent reading, doubted above: its next reading instead.
        intent = next((name for name, _c in turn.ranking if name != URGENT), "nlu_fallback")

    # 2. A button that names an entry; numbers and prefixes.
    if turn.entry and catalogue.is_entry(turn.entry):
        return Outcome(entry_answer(turn.entry, moment))
    top, conf = _selector_top(turn)
    story = bool(top) and catalogue.entry(top).group not in {"prefix", "phone"}
    # A prefix mentioned in passing (「050からSMSも来てるの。SMSを止めたい」) is
    # not the question when the message is surely about something else.
    prefix_question = turn.prefixes and not (intent == "faq" and story and conf >= ENTRY_SURE)
    if (turn.callers or prefix_question) and intent not in followups.KINDS:
        # The number's own kind answers (read by rules, not guessed), unless the
        # message is surely a story about something else: 「090-…から『逮捕される』と電話」
        # gets the story's entry, with what the number is first.
        entry_key = top if (intent == "faq" and story and conf >= NEW_TOPIC_MIN) else None
        return Outcome(
            number_answer(turn.callers, turn.prefixes, moment, entry_key),
            0,
            _alternatives(turn, entry_key),
        )

    # A message naming a line and asking when it is open: 「188って土日は？」.
    named = followups.named_line(text)
    sure_entry = intent == "faq" and top and conf >= ENTRY_SURE
    short_question = len(normalize(text)) <= 30 and not sure_entry
    if (
        named
        and followups.asks_hours(text)
        and (intent not in {"faq"} | SMALLTALK or short_question)
        and not button
    ):
        return Outcome(followups.hours_of(named, turn.topic, moment), 0)
    # ... or asking what it is or what it costs: 「188ってのもあるよね。何の番号？」.
    if named and not button and not sure_entry and intent not in SMALLTALK:
        norm = normalize(text)
        if _COST_WORDS.search(norm):
            return Outcome(followups.line_cost(named, turn.topic, moment), 0)
        if _WHAT_LINE.search(norm):
            if named.key in WHICH_LINE_KEYS:
                return Outcome(entry_answer("which_line", moment), 0)
            return Outcome(followups.hours_of(named, turn.topic, moment), 0)

    # A follow-up the model was unsure of, with a topic in context.
    intent = _resolve_followup(turn, intent)

    # 3. A catalogue question (also an eligibility reading the check turned
    # away: 「息子が300万円必要と」 is about a scam, not docomo's schemes; and
    # a message the classifier found ambiguous but the selector is sure of).
    if intent in {"faq", "check_eligibility"} or (
        intent == "nlu_fallback" and _selector_top(turn)[1] >= ENTRY_SURE and not button
    ):
        return _catalogue(turn)

    # 4. A follow-up about the topic in context.
    if intent in followups.KINDS:
        subject = turn.topic
        top, conf = _selector_top(turn)
        if top and conf >= NEW_TOPIC_MIN and len(normalize(text)) >= 8 and not button:
            subject = top
        return Outcome(followups.respond(intent, subject, moment), 0)

    # 5. Small talk, and yes/no words outside a question.
    if intent in SMALLTALK:
        if button or looks_like_smalltalk(text) or turn.confidence >= SMALLTALK_SURE:
            return Outcome(answer(intent, turn.topic, moment))
        return _not_understood(turn)
    if intent in YES_NO:
        return _yes_no(turn, intent)

    # Anything else with an answer of its own (crime handled above, copy intents).
    if intent in answers() and intent not in {"nlu_fallback", "bad_input", "escalate"}:
        return Outcome(answer(intent, turn.topic, moment))

    # 6. Not understood.
    return _not_understood(turn)


# The classifier's reading of an eligibility question, second to the entry of
# the scheme it asks about, from which the check opens instead of the entry.
CHECK_MIN = 0.2


def opens_check(turn: Turn) -> bool:
    """Is a message read as a docomo scheme's entry really asking whether the
    person qualifies (「…勝手に使われました。ドコモの補償してもらえますか」)?
    Then the eligibility check opens, as it would for check_eligibility."""
    text = turn.text or ""
    if _button(text) or urgency.detect(text):
        return False
    top, _conf = _selector_top(turn)
    if not top or not scheme_for_topic(top) or not scheme_in(text) or not names_docomo(text):
        return False
    return any(
        name == "check_eligibility" and confidence >= CHECK_MIN
        for name, confidence in turn.ranking[:3]
    )


# 「なんで？」「どうして？」 the model was unsure of, with ask_why among its
# readings: asking the reasons of the decision in context (the action checks
# that there is one). Longer messages are questions of their own.
WHY_MAX_LENGTH = 15


def asks_why(turn: Turn) -> bool:
    text = turn.text or ""
    if _button(text) or turn.intent != "nlu_fallback" or len(normalize(text)) > WHY_MAX_LENGTH:
        return False
    return any(name == "ask_why" and c >= FOLLOWUP_MIN for name, c in turn.ranking[:3])


def _resolve_followup(turn: Turn, intent: str) -> str:
    """A follow-up the model ranked second to an unsure reading, when a topic is
    in context: 「どこに言えばいい？」 read as faq at 0.5 and ask_where at 0.3."""
    if not turn.topic or intent in followups.KINDS or _button(turn.text or ""):
        return intent
    _top, conf = _selector_top(turn)
    unsure = intent == "nlu_fallback" or (intent == "faq" and conf < ENTRY_SURE)
    if not unsure:
        return intent
    for name, confidence in turn.ranking[:3]:
        if name in followups.KINDS and confidence >= FOLLOWUP_MIN:
            return name
    return intent


def related(topic: str | None) -> set[str]:
    """Entries that follow from the topic: its buttons, its family, its block,
    and, after any scam, call or message, what people say they already did."""
    found = catalogue.entry(topic)
    if not found:
        return set()
    keys = {target for _title, target in found.buttons if catalogue.is_entry(target)}
    if found.family:
        keys |= {e.key for e in catalogue.entries().values() if e.family == found.family}
    if found.block and catalogue.is_entry(found.block):
        keys.add(found.block)
    if found.group in {"fraud", "phone", "prefix", "sms", "payment"}:
        keys |= {e.key for e in catalogue.entries().values() if e.group == "after"}
    return keys - {topic}


# Entries about the lines themselves. Asked without naming a line, with a
# topic in context (「相談料はかかる？」「どこに電話すれば？」), they are questions
# about the topic's lines, not about the center.
GENERIC_ENTRIES = {"center_contact", "center_about", "which_line"}
_COST_WORDS = re.compile(
    r"お金|料金|金かか|タダ|ただ|無料|有料|いくら|なんぼ|電話代|通話料|相談料|費用"
)


# A question about what a named line is (「188って何の番号？」), and the lines
# the catalogue's which_line entry tells apart.
_WHAT_LINE = re.compile(
    r"何の番号|なんの番号|って何(?!時|曜)|ってなに|ってなん(?!じ)|とは|どこの|どういう|何をする|なにする"
)
WHICH_LINE_KEYS = {"police_emergency", "police_consult", "consumer_hotline"}


def _generic_followup(turn: Turn, top: str | None, conf: float) -> str | None:
    """ask_cost / ask_where when a generic entry stands for a question about the topic."""
    if not turn.topic or top not in GENERIC_ENTRIES or conf >= NEW_TOPIC_MIN:
        return None
    if turn.topic in GENERIC_ENTRIES or followups.named_line(turn.text or ""):
        return None
    return "ask_cost" if _COST_WORDS.search(normalize(turn.text or "")) else "ask_where"


# Where net trouble goes for someone who is not docomo's customer.
OTHER_CARRIER_ENTRY = "net_help_general"

_URL = re.compile(r"https?://|www\.|\.(?:com|net|jp|xyz|top|info|cn)\b", re.IGNORECASE)
# Entries that already answer a message with a link in it.
_LINK_GROUPS = {"sms", "after", "sns", "payment"}


def _catalogue(turn: Turn) -> Outcome:
    top, conf = _selector_top(turn)
    alternatives = _alternatives(turn, top)
    generic = _generic_followup(turn, top, conf)
    if generic:
        return Outcome(followups.respond(generic, turn.topic, turn.moment), 0, alternatives)
    done_entry = done.entry_of(turn.text)
    if done_entry and conf < ENTRY_SURE:
        # Unsure, but the message says what was already done: its steps.
        top, conf = done_entry, ENTRY_SURE
    if top and conf < ENTRY_SURE:
        # Unsure: what follows from the topic in context is the likelier
        # reading (「もう開いちゃった」 after a fake parcel SMS).
        near = related(turn.topic)
        for key, confidence in turn.selector[:5]:
            if key in near and confidence >= CANDIDATE_MIN:
                top, conf = key, max(conf, ENTRY_SURE)
                break
    if (
        _URL.search(turn.text or "")
        and (top is None or catalogue.entry(top).group not in _LINK_GROUPS)
        and conf < NEW_TOPIC_MIN
    ):
        # A pasted message with a link is, most often, phishing.
        shared = family_answer("sms", ["smishing_delivery", "smishing_official"], turn.moment)
        shared.review = "ambiguous"
        return Outcome(shared, 0, alternatives)
    if top and catalogue.entry(top).group == "docomo" and names_other_carrier(turn.text or ""):
        # docomo's paid service is not for another carrier's customer.
        top, conf = OTHER_CARRIER_ENTRY, max(conf, ENTRY_SURE)
    if top is None or (conf < ENTRY_MAYBE and not _leads(turn, top, conf)):
        return _not_understood(turn, shared_ok=True)
    return _answer_entry(turn, top, conf, alternatives)


def _shared_reading(turn: Turn) -> Answer | None:
    """Two unsure readings that share a safe answer (two fraud types, two
    members of a family): that answer, said to be unsure, with both as
    buttons, rather than 「わかりませんでした」. On the dev sets, 6 of 7 such
    messages were about one of the two."""
    readings = [k for k, c in turn.selector[:2] if c >= CANDIDATE_MIN and catalogue.is_entry(k)]
    if len(readings) < 2 or len(normalize(turn.text or "")) < SHARED_MIN_LENGTH:
        return None
    key = catalogue.shared_family(*readings)
    shared = family_answer(key, readings, turn.moment) if key else None
    if shared:
        # The action first (an elderly reader's first two lines), the doubt after.
        shared.text += "\n" + render(answers()["maybe_shared"])
        shared.review = "ambiguous"
    return shared


def _leads(turn: Turn, top: str, conf: float) -> bool:
    """Is `top` far ahead of every other reading (ENTRY_LEAD_RATIO)?"""
    others = [c for k, c in turn.selector if k != top]
    return conf >= ENTRY_LEAD_MIN and conf >= ENTRY_LEAD_RATIO * (others[0] if others else 0.0)


def _answer_entry(turn: Turn, top: str, conf: float, alternatives: list[str]) -> Outcome:
    if len(turn.selector) > 1:
        second, conf2 = turn.selector[1]
        first_entry, second_entry = catalogue.entry(top), catalogue.entry(second)
        if (
            second_entry
            and second != top
            and first_entry.family
            and first_entry.family == second_entry.family
            and conf2 >= AMBIGUOUS_SHARE * conf
            and conf < NEW_TOPIC_MIN
        ):
            shared = family_answer(first_entry.family, [top, second], turn.moment)
            if shared:
                shared.review = "ambiguous"
                return Outcome(shared, 0, alternatives)
    result = entry_answer(top, turn.moment)
    if conf < ENTRY_SURE:
        # Say so, and offer the other readings.
        result.text = (
            render(answers()["maybe_entry"]).replace("<title>", catalogue.topic_label(top))
            + "\n"
            + result.text
        )
        options = [catalogue.entry(k) for k in alternatives[:2]]
        result.buttons = [Button(e.title, e.key) for e in options if e] + result.buttons
        result.review = "low_confidence"
    return Outcome(result, 0, alternatives)


def _yes_no(turn: Turn, intent: str) -> Outcome:
    """はい・いいえ・やめる・わからない when the bot asked nothing."""
    text = normalize(turn.text or "")
    if turn.topic and _CORRECTION.search(text) and not turn.asked:
        # 「違う」「そうじゃなくて」 right after an answer: the answer missed.
        result = misroute(turn)
        return Outcome(result, 0, turn.candidates)
    if _button(turn.text or "") or turn.asked or looks_like_smalltalk(turn.text or ""):
        return Outcome(answer(intent, turn.topic, turn.moment))
    # A longer message the NLU read as yes/no is not an answer: 「それ、お金かかるん？」.
    return _not_understood(turn)


def misroute(turn: Turn) -> Answer:
    spec = answers()["misroute"]
    options = [catalogue.entry(k) for k in turn.candidates]
    buttons = [Button(e.title, e.key) for e in options if e][:3]
    buttons += [Button(title, target) for title, target in spec.get("buttons", [])]
    result = Answer(render(spec["text"]), buttons, turn.topic, [], "", "fallback")
    result.review = "misroute"
    return result


def _not_understood(turn: Turn, shared_ok: bool = False) -> Outcome:
    if turn.topic == URGENT and has_words(turn.text):
        # Right after an emergency, a message the model cannot place (「カードは
        # まだ手元にあります」) is about the same scene: 110 first again.
        result = urgent_answer(None, turn.moment, None, done.entry_of(turn.text))
        return Outcome(result, 0, _alternatives(turn, None))
    done_entry = done.entry_of(turn.text)
    if done_entry:
        # 「もう振り込んじゃった」 the model could not place: its steps, in order.
        return Outcome(entry_answer(done_entry, turn.moment), 0, _alternatives(turn, done_entry))
    # A question about the topic in context that the model could not place
    # (「本当に孫かどうか確かめるには？」): the topic's answer again, hedged,
    # with the other readings, rather than 「わかりませんでした」.
    found = catalogue.entry(turn.topic)
    text = normalize(turn.text or "")
    if (
        found
        and has_words(text)
        and _QUESTION.search(text)
        and CONTEXT_QUESTION_MIN <= len(text) <= CONTEXT_QUESTION_MAX
    ):
        return _answer_entry(turn, found.key, ENTRY_MAYBE, _alternatives(turn, found.key))
    shared = _shared_reading(turn) if shared_ok else None
    if shared:
        return Outcome(shared, 0, _alternatives(turn, None))
    misses = turn.misses + 1
    candidates = _alternatives(turn, None)
    result = fallback(has_words(turn.text), misses, turn.topic, turn.moment, candidates)
    result.review = "two_misses" if misses >= 2 else "fallback"
    return Outcome(result, misses, candidates)
