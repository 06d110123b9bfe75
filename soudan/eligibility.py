"""Eligibility decisions with one reason per rule, from the rules in knowledge.yml.

The rules (`eligibility` in knowledge.yml) are data: each scheme lists its
conditions, each a period or a yes/no fact with the reason to give when it is
met and when it is not. This module only evaluates them for the date judged
and the facts known so far, and says which fact to ask next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from soudan.dates import Span
from soudan.knowledge import knowledge, render


@dataclass(frozen=True)
class Reason:
    rule: str  # the condition's key
    met: bool
    text: str  # in Japanese, rendered from the knowledge file
    source: str  # a key of knowledge.yml `sources`


# A fact the person was asked about and does not know (「わからない」).
UNKNOWN = "unknown"


@dataclass
class Decision:
    scheme: str
    name: str
    judged: Span  # the date (or span) the decision is for
    eligible: bool | None  # None: a fact is missing or unknown
    reasons: list[Reason] = field(default_factory=list)  # one per rule judged
    ask: str | None = None  # the key of the next fact to ask for
    question: str | None = None  # and how to ask it
    partly: bool = False  # the span is only partly inside a period
    unknown: list[str] = field(default_factory=list)  # facts the person does not know
    ended: str | None = None  # the period's text when the date judged is after it

    @property
    def unmet(self) -> list[Reason]:
        return [r for r in self.reasons if not r.met]


def schemes() -> list[str]:
    return list(knowledge()["eligibility"])


def scheme_for_topic(topic: str | None) -> str | None:
    """The scheme a topic in context belongs to (`topics` in knowledge.yml)."""
    for scheme, spec in knowledge()["eligibility"].items():
        if topic in spec.get("topics", []):
            return scheme
    return None


def topic_of(scheme: str) -> str:
    """The intent whose hotlines are the next step for a scheme."""
    return knowledge()["eligibility"][scheme]["topics"][0]


def fact_keys() -> list[str]:
    """Every yes/no fact any scheme asks about, each once, in asking order."""
    keys: list[str] = []
    for spec in knowledge()["eligibility"].values():
        for cond in spec["conditions"]:
            if cond["kind"] == "fact" and cond["key"] not in keys:
                keys.append(cond["key"])
    return keys


def question(key: str) -> str:
    """How to ask for a fact or an amount (the first `ask` given for it)."""
    for spec in knowledge()["eligibility"].values():
        for cond in spec["conditions"] + spec.get("amounts", []):
            if cond["key"] == key and "ask" in cond:
                return cond["ask"]
    raise KeyError(key)


def amount_keys(scheme: str) -> list[str]:
    return [a["key"] for a in knowledge()["eligibility"][scheme].get("amounts", [])]


def _period(path: str) -> tuple[date, date]:
    entry: dict = knowledge()
    for part in path.split("."):
        entry = entry[part]
    return date.fromisoformat(str(entry["from"])), date.fromisoformat(str(entry["until"]))


def decide(scheme: str, judged: Span, facts: dict[str, bool | str | None]) -> Decision:
    """Judge every rule that can be judged, one reason each, in the rules' order.

    Periods are always judged. A fact is True/False (met or not), UNKNOWN (the
    person does not know) or missing. Any unmet rule decides "no" and nothing
    more is asked; otherwise the first missing fact is the next question;
    otherwise an unknown fact leaves the decision open.
    """
    spec = knowledge()["eligibility"][scheme]
    source = spec["source"]
    decision = Decision(scheme, spec["name"], judged, eligible=True)
    missing: list[dict] = []
    for cond in spec["conditions"]:
        key = cond["key"]
        if cond["kind"] == "period":
            start, end = _period(cond["period"])
            inside = start <= judged.first and judged.last <= end
            overlaps = judged.first <= end and start <= judged.last
            met = overlaps
            decision.partly = decision.partly or (overlaps and not inside)
            if judged.first > end:
                decision.ended = render("{" + cond["period"] + ".period_text}")
        else:
            value = facts.get(key)
            if value == UNKNOWN:
                decision.unknown.append(key)
                continue
            if not isinstance(value, bool):
                missing.append(cond)
                continue
            met = value == cond["expect"]
        decision.reasons.append(Reason(key, met, render(cond["met" if met else "unmet"]), source))
    if decision.unmet:
        decision.eligible = False
    elif missing:
        decision.eligible = None
        decision.ask, decision.question = missing[0]["key"], missing[0]["ask"]
    elif decision.unknown:
        decision.eligible = None
    return decision


def most_payable(loss_yen: int, provider_pays_yen: int) -> int:
    """The most the payment-fraud cover could pay: the loss less what the
    payment provider compensates, up to the cap (「決済事業者等から補償を受け
    られる額を除き、100万円まで」). Other conditions apply: never a promise."""
    cover = knowledge()["docomo"]["fraud_cover"]
    return min(int(cover["cap_yen"]), max(0, loss_yen - max(0, provider_pays_yen)))
