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

from soudan import catalogue, followups, urgency
from soudan.dialogue import (
    URGENT,
    Answer,
    answer,
    entry_answer,
    fallback,
    family_answer,
    number_answer,
)
from soudan.knowledge import Button, answers, render
from soudan.normalize import has_words, normalize
from soudan.phone import Caller, Prefix

# The ResponseSelector's confidence from which a catalogue entry is answered.
ENTRY_MIN = 0.45
# Two entries closer than this, in the same family, get the family's answer.
AMBIGUOUS_WITHIN = 0.25
# A follow-up that also names a new topic this surely is about that topic
# (「ワン切りってブロックできる？」).
NEW_TOPIC_MIN = 0.8
# Candidates offered by a fallback need at least this confidence.
CANDIDATE_MIN = 0.08
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

    # 1. A crime in progress: 110 first, whatever else the message says.
    trigger = None if button else urgency.detect(text, scam_context(turn.topic))
    if intent == URGENT or trigger:
        result = urgent_answer_for(turn, trigger.kind if trigger else None)
        return Outcome(result, 0, _alternatives(turn, None))

    # 2. A button that names an entry; numbers and prefixes.
    if turn.entry and catalogue.is_entry(turn.entry):
        return Outcome(entry_answer(turn.entry, moment))
    if (turn.callers or turn.prefixes) and intent not in followups.KINDS:
        # The number's own kind answers (read by rules, not guessed), unless the
        # message is surely a story about something else: 「090-…から『逮捕される』と電話」
        # gets the story's entry, with what the number is first.
        top, conf = _selector_top(turn)
        story = top and catalogue.entry(top).group not in {"prefix", "phone"}
        entry_key = top if (intent == "faq" and story and conf >= NEW_TOPIC_MIN) else None
        return Outcome(
            number_answer(turn.callers, turn.prefixes, moment, entry_key),
            0,
            _alternatives(turn, entry_key),
        )

    # 3. A catalogue question (also an eligibility reading the check turned
    # away: 「息子が300万円必要と」 is about a scam, not docomo's schemes).
    if intent in {"faq", "check_eligibility"}:
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


def urgent_answer_for(turn: Turn, trigger_kind: str | None) -> Answer:
    from soudan.dialogue import urgent_answer

    return urgent_answer(turn.topic, turn.moment, trigger_kind)


def _catalogue(turn: Turn) -> Outcome:
    top, conf = _selector_top(turn)
    if top is None or conf < ENTRY_MIN:
        return _not_understood(turn)
    alternatives = _alternatives(turn, top)
    if len(turn.selector) > 1:
        second, conf2 = turn.selector[1]
        first_entry, second_entry = catalogue.entry(top), catalogue.entry(second)
        if (
            second_entry
            and first_entry.family
            and first_entry.family == second_entry.family
            and conf - conf2 < AMBIGUOUS_WITHIN
        ):
            shared = family_answer(first_entry.family, [top, second], turn.moment)
            if shared:
                shared.review = "ambiguous"
                return Outcome(shared, 0, alternatives)
    return Outcome(entry_answer(top, turn.moment), 0, alternatives)


def _yes_no(turn: Turn, intent: str) -> Outcome:
    """はい・いいえ・やめる・わからない when the bot asked nothing."""
    text = normalize(turn.text or "")
    if turn.topic and (intent == "deny" or _CORRECTION.search(text)) and not turn.asked:
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


def _not_understood(turn: Turn) -> Outcome:
    misses = turn.misses + 1
    candidates = _alternatives(turn, None)
    result = fallback(has_words(turn.text), misses, turn.topic, turn.moment, candidates)
    result.review = "two_misses" if misses >= 2 else "fallback"
    return Outcome(result, misses, candidates)
