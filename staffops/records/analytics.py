"""What citizens ask, from the records: figures for the center's analytics page.

Read from the turn log and the feedback rows between two days (Japan time,
both included), counted here in Python so that SQLite and PostgreSQL give
the same days and weeks. Topics and scam types get their Japanese names
(soudan.catalogue); texts are the masked fallback phrases, never more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from soudan import catalogue
from staffops.records.database import JST, to_utc
from staffops.records.tables import feedback, turns

TOP_PHRASES = 10


@dataclass
class Figures:
    start: date
    end: date
    total: int = 0
    fallbacks: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)  # every day of the range
    per_week: list[tuple[date, int]] = field(default_factory=list)  # Mondays
    per_topic: list[tuple[str, int]] = field(default_factory=list)  # (Japanese name, n)
    per_scam_type: list[tuple[str, int]] = field(default_factory=list)
    fallback_phrases: list[tuple[str, int]] = field(default_factory=list)  # masked
    # (Japanese name, helpful, not helpful)
    feedback: list[tuple[str, int, int]] = field(default_factory=list)
    prefixes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def fallback_share(self) -> float:
        return self.fallbacks / self.total if self.total else 0.0


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range's first and last instants in UTC (days in Japan time)."""
    first = datetime.combine(start, time.min, tzinfo=JST)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=JST)
    return to_utc(first), to_utc(after)


def _day(moment: datetime) -> date:
    if moment.tzinfo is None:  # SQLite: stored as UTC
        moment = to_utc(moment.isoformat() + "+00:00")
    return moment.astimezone(JST).date()


def _ranked(counter: Counter, limit: int | None = None) -> list[tuple[Any, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]


def figures(engine: sa.engine.Engine, start: date, end: date) -> Figures:
    if end < start:
        start, end = end, start
    first, after = _bounds(start, end)
    found = Figures(start, end)
    in_range = sa.and_(turns.c.time >= first, turns.c.time < after)
    query = sa.select(
        turns.c.time,
        turns.c.topic,
        turns.c.fallback,
        turns.c.scam_type,
        turns.c.prefixes,
        turns.c.fallback_text,
    ).where(in_range)
    rated = sa.select(feedback.c.topic, feedback.c.helpful).where(
        feedback.c.time >= first, feedback.c.time < after
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        ratings = conn.execute(rated).all()

    days: Counter = Counter()
    topics: Counter = Counter()
    scams: Counter = Counter()
    phrases: Counter = Counter()
    prefixes: Counter = Counter()
    for moment, topic, fell_back, scam, asked, text in rows:
        found.total += 1
        days[_day(moment)] += 1
        if topic:
            topics[catalogue.topic_label(topic)] += 1
        if scam:
            scams[catalogue.topic_label(scam)] += 1
        if fell_back:
            found.fallbacks += 1
            if text:
                phrases[text] += 1
        for prefix in asked or []:
            prefixes[str(prefix)] += 1

    day = start
    weeks: Counter = Counter()
    while day <= end:
        found.per_day.append((day, days[day]))
        weeks[day - timedelta(days=day.weekday())] += days[day]
        day += timedelta(days=1)
    found.per_week = sorted(weeks.items())
    found.per_topic = _ranked(topics)
    found.per_scam_type = _ranked(scams)
    found.fallback_phrases = _ranked(phrases, TOP_PHRASES)
    found.prefixes = _ranked(prefixes)

    votes: dict[str, list[int]] = {}
    for topic, helpful in ratings:
        counts = votes.setdefault(catalogue.topic_label(topic), [0, 0])
        counts[0 if helpful else 1] += 1
    found.feedback = sorted(
        ((name, h, n) for name, (h, n) in votes.items()), key=lambda t: (-(t[1] + t[2]), t[0])
    )
    return found


def csv_rows(found: Figures) -> list[list[str]]:
    """The figures as CSV rows: a section name, a label, numbers."""
    rows: list[list[str]] = [["区分", "項目", "件数", "補足"]]
    rows += [["日別", d.isoformat(), str(n), ""] for d, n in found.per_day]
    rows += [["週別（月曜から）", d.isoformat(), str(n), ""] for d, n in found.per_week]
    rows += [["話題別", name, str(n), ""] for name, n in found.per_topic]
    rows += [["詐欺の種類別", name, str(n), ""] for name, n in found.per_scam_type]
    rows.append(
        ["理解できなかった割合", "全体", str(found.fallbacks), f"{found.fallback_share:.3f}"]
    )
    rows += [
        ["理解できなかった文（伏せ字済み）", text, str(n), ""] for text, n in found.fallback_phrases
    ]
    for name, helpful, not_helpful in found.feedback:
        share = helpful / (helpful + not_helpful) if helpful + not_helpful else 0.0
        rows.append(
            [
                "評価（役に立った／役に立たなかった）",
                name,
                f"{helpful}/{not_helpful}",
                f"{share:.3f}",
            ]
        )
    rows += [["問い合わせのあった番号の頭", p, str(n), ""] for p, n in found.prefixes]
    return rows
