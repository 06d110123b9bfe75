"""Group near-identical inbox items, and read the inbox filters of a staff page.

The same question reaches the inbox many times in slightly different
writing (full/half width, punctuation, 「何度も」/「何回も」, another masked
name). Staff handle it once: items whose texts are the same after folding,
or close enough by character 2-grams, form one group, shown with a count,
the newest time, and every reason and channel; handling the group handles
every item in it.

Folding (`fold`): soudan.normalize (NFKC: width, case, repeated marks), then
long-vowel and dash variants to 「ー」, masked placeholders (〈名前〉, 〈電話番号〉,
...) to one mark per kind, and every space, punctuation mark and symbol
removed: what is left is what was said.

Similarity (`similarity`): the Dice coefficient of the folded texts'
character 2-gram sets (2·|A∩B| / (|A|+|B|)); Japanese has no spaces, so
character n-grams stand in for words. Two texts that name different things
in a word of their own — a number (0120 / 0570), a Latin word (SMS / X) or a
katakana word (インスタ / カード) — are never near-identical whatever their
score: those words (`marks`) must be the same. THRESHOLD is 0.6, chosen on
the examples of tests/staff/test_staff_inbox_groups.py: rewordings of one
question (「何度も」→「何回も」, 「きた」→「来ました」, a particle changed,
「困っている」 added) score 0.64–0.89 with 2-grams, while different questions
with the same marks (「カードが勝手に使われた」 / 「カードを落とした」,
「国際電話がかかってきた」 / 「国際電話をかけてしまった」) score 0.24–0.29.
3-grams were tried first: on texts of 10–15 characters one changed particle
already costs them too much (「カードが／を勝手に使われ(てい)た」 0.50).

Plain module: no FastAPI; the gateway's inbox page and the CLI use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from soudan.normalize import normalize
from staffops.records.database import JST

THRESHOLD = 0.6
N = 2
# Dashes and long-vowel marks that IMEs and keyboards mix up (neologdn folds them too).
_LONG_VOWEL = re.compile("[ｰ‐‑‒–—―−─━ー～〜~]+")
_PLACEHOLDER = re.compile(r"〈([^〈〉]{1,12})〉")
_WORD = re.compile(r"\S+")
# Words that name a thing by themselves: Latin letters and digits, katakana.
_MARK = re.compile(r"[a-z0-9]+|[ァ-ヺー]{2,}")


def fold(text: str | None) -> str:
    """The text with only what was said: width, case, punctuation, spacing and
    masked values folded (「〈名前〉さんから、電話が！」 == 「〈名前〉さん から電話が」)."""
    text = normalize(text)
    # One private-use character per kind of masked value: 〈名前〉 and 〈電話番号〉
    # stay different, two masked names are the same.
    text = _PLACEHOLDER.sub(lambda m: chr(0xE000 + sum(map(ord, m.group(1))) % 4096), text)
    text = _LONG_VOWEL.sub("ー", text)
    return "".join(
        ch
        for ch in text
        if unicodedata.category(ch)[0] not in "PZS" and not ch.isspace() and ch != "\u3000"
    )


def marks(folded: str) -> frozenset[str]:
    """The numbers, Latin and katakana words of a folded text (「0120」, 「sms」, 「カード」)."""
    return frozenset(_MARK.findall(folded))


def grams(folded: str) -> frozenset[str]:
    if len(folded) < N:
        return frozenset({folded}) if folded else frozenset()
    return frozenset(folded[i : i + N] for i in range(len(folded) - N + 1))


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0..1 (Dice over character 2-grams of the folded texts)."""
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return 1.0
    if marks(fa) != marks(fb):
        return 0.0
    return _dice(grams(fa), grams(fb))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass
class Group:
    """Items that say the same, newest first; the first one stands for the group."""

    items: list[dict[str, Any]]
    _grams: frozenset[str] = field(default=frozenset(), repr=False)
    _marks: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def id(self) -> str:
        return self.items[0]["id"]

    @property
    def ids(self) -> list[str]:
        return [item["id"] for item in self.items]

    @property
    def first(self) -> dict[str, Any]:
        return self.items[0]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def newest(self) -> str:
        return max(str(item.get("time") or "") for item in self.items)

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(item.get("reason") for item in self.items if item.get("reason")))

    @property
    def channels(self) -> list[str]:
        return list(
            dict.fromkeys(item.get("channel") for item in self.items if item.get("channel"))
        )

    @property
    def texts(self) -> list[str]:
        """Every different wording in the group (the first one first)."""
        return list(dict.fromkeys(item["text"] for item in self.items))


def group(items: Iterable[dict[str, Any]], threshold: float = THRESHOLD) -> list[Group]:
    """Group items (given newest first) that say the same: equal after `fold`, or
    at least `threshold` alike. Each item is compared with each group's first
    item, not with every member, so that a chain of small changes never
    joins two different questions. Groups keep the order of their newest item."""
    groups: list[Group] = []
    exact: dict[str, Group] = {}
    for item in items:
        key = fold(item.get("text"))
        found = exact.get(key)
        if found is None:
            mine, named = grams(key), marks(key)
            best, best_score = None, threshold
            for candidate in groups:
                if candidate._marks != named:
                    continue
                score = _dice(mine, candidate._grams)
                if score >= best_score:
                    best, best_score = candidate, score
            found = best
        if found is None:
            found = Group([], grams(key), marks(key))
            groups.append(found)
        found.items.append(item)
        exact.setdefault(key, found)
    return groups


# --- filters -----------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a staff member asked the inbox for (the page's query string)."""

    reason: str = ""
    channel: str = ""
    topic: str = ""
    start: date | None = None
    end: date | None = None
    words: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(
            self.reason or self.channel or self.topic or self.start or self.end or self.words
        )

    def since(self) -> datetime | None:
        """The first moment of the start day in Japan time."""
        return datetime.combine(self.start, time(0), JST) if self.start else None

    def before(self) -> datetime | None:
        """The first moment after the end day in Japan time."""
        return datetime.combine(self.end + timedelta(days=1), time(0), JST) if self.end else None


# The days a filter can name (the records start long after the first).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def read_filters(
    query: dict[str, str],
    *,
    reasons: Iterable[str],
    channels: Iterable[str],
    topics: Iterable[str],
) -> tuple[Filters, list[str]]:
    """Filters from a query string, and a Japanese note for each value ignored
    (an unknown reason, a date that is not one); values are never trusted."""
    notes: list[str] = []

    def choice(name: str, allowed: Iterable[str], what: str) -> str:
        value = (query.get(name) or "").strip()
        if value and value not in set(allowed):
            notes.append(f"{what}の指定を読み取れなかったため、すべて表示しています。")
            return ""
        return value

    def day(name: str, what: str) -> date | None:
        value = (query.get(name) or "").strip()
        if not value:
            return None
        try:
            found = date.fromisoformat(value)
        except ValueError:
            found = None
        # Year 1 or 9999 parse, but a day's bounds in Japan time then leave
        # what datetime can hold: such a date is not one staff mean.
        if found is None or not EARLIEST_DAY <= found <= LATEST_DAY:
            notes.append(f"{what}の日付を読み取れませんでした（例: 2026-12-01）。")
            return None
        return found

    start, end = day("start", "開始日"), day("end", "終了日")
    if start and end and start > end:
        start, end = end, start
    words = tuple(dict.fromkeys(_WORD.findall(normalize(query.get("q") or ""))))[:5]
    return (
        Filters(
            reason=choice("reason", reasons, "理由"),
            channel=choice("channel", channels, "経路"),
            topic=choice("topic", topics, "話題"),
            start=start,
            end=end,
            words=words,
        ),
        notes,
    )
