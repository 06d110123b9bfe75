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


@dataclass
class Decision:
    scheme: str
    name: str
    judged: Span  # the date (or span) the decision is for
    eligible: bool | None  # None: a fact is still missing
    reasons: list[Reason] = field(default_factory=list)
    ask: str | None = None  # the key of the next fact to ask for
    question: str | None = None  # and how to ask it
    partly: bool = False  # the span is only partly inside a period


def schemes() -> list[str]:
    return list(knowledge()["eligibility"])


def _period(path: str) -> tuple[date, date]:
    entry: dict = knowledge()
    for part in path.split("."):
        entry = entry[part]
    return date.fromisoformat(str(entry["from"])), date.fromisoformat(str(entry["until"]))


def decide(scheme: str, judged: Span, facts: dict[str, bool | None]) -> Decision:
    """Check every condition in order; stop at the first unmet one.

    A fact missing from `facts` (or None) makes the decision open and names the
    question to ask; an unmet condition decides "no" with its reason.
    """
    spec = knowledge()["eligibility"][scheme]
    source = spec["source"]
    decision = Decision(scheme, spec["name"], judged, eligible=True)
    for cond in spec["conditions"]:
        key = cond["key"]
        if cond["kind"] == "period":
            start, end = _period(cond["period"])
            inside = start <= judged.first and judged.last <= end
            overlaps = judged.first <= end and start <= judged.last
            met = inside or overlaps
            decision.partly = decision.partly or (overlaps and not inside)
        else:
            value = facts.get(key)
            if value is None:
                decision.eligible = None
                decision.ask, decision.question = key, cond["ask"]
                return decision
            met = value == cond["expect"]
        decision.reasons.append(Reason(key, met, render(cond["met" if met else "unmet"]), source))
        if not met:
            decision.eligible = False
            return decision
    return decision


def most_payable(loss_yen: int, provider_pays_yen: int) -> int:
    """The most the payment-fraud cover could pay: the loss less what the
    payment provider compensates, up to the cap (「決済事業者等から補償を受け
    られる額を除き、100万円まで」). Other conditions apply: never a promise."""
    cover = knowledge()["docomo"]["fraud_cover"]
    return min(int(cover["cap_yen"]), max(0, loss_yen - max(0, provider_pays_yen)))
