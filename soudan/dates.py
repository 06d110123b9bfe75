"""Japanese date expressions → the span of days they name, relative to today in Japan.

「2020年7月10日」「2020/7/10」「令和2年7月10日」「7月10日」「去年の8月」「2020年8月」
「今日」「昨日」「先月」. A month names all its days; the eligibility engine then
says whether the whole span, part of it or none of it lies in a period.
No library handles these relative Japanese forms with era years, so this is
a small parser; digits are already folded by `normalize`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from soudan.hours import to_jst
from soudan.normalize import normalize

# First year of each era (元年 = 1).
ERAS = {"令和": 2019, "平成": 1989, "昭和": 1926}
_YEAR = r"(?:(?P<era>令和|平成|昭和)(?P<eyear>\d{1,2}|元)|(?P<year>\d{4}))年"
_FULL = re.compile(_YEAR + r"(?:(?P<month>\d{1,2})月(?:(?P<day>\d{1,2})日)?)?")
_SLASH = re.compile(r"(?P<year>\d{4})[/\-.](?P<month>\d{1,2})(?:[/\-.](?P<day>\d{1,2}))?")
_RELATIVE_YEAR = re.compile(
    r"(?P<rel>去年|昨年|今年|一昨年|おととし)の?(?P<month>\d{1,2})月(?:(?P<day>\d{1,2})日)?"
)
_MONTH_DAY = re.compile(r"(?<!\d)(?P<month>\d{1,2})月(?:(?P<day>\d{1,2})日)?")
_RELATIVE_YEAR_OFFSET = {"今年": 0, "去年": -1, "昨年": -1, "一昨年": -2, "おととし": -2}
_RELATIVE_DAY = {
    "今日": 0,
    "きょう": 0,
    "本日": 0,
    "昨日": -1,
    "きのう": -1,
    "一昨日": -2,
    "おととい": -2,
}


@dataclass(frozen=True)
class Span:
    first: date
    last: date

    @property
    def text(self) -> str:
        """How the answer names the date it judged."""
        f, l_ = self.first, self.last
        if f == l_:
            return f"{f.year}年{f.month}月{f.day}日"
        if f.day == 1 and l_ == _month_end(f.year, f.month):
            return f"{f.year}年{f.month}月"
        return f"{f.year}年{f.month}月{f.day}日〜{l_.year}年{l_.month}月{l_.day}日"


def day_in_japan(moment: datetime) -> Span:
    """The day a moment falls on in Japan, whatever the server's time zone."""
    day = to_jst(moment).date()
    return Span(day, day)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _span(year: int, month: int | None, day: int | None) -> Span | None:
    try:
        if month is None:
            return Span(date(year, 1, 1), date(year, 12, 31))
        if day is None:
            return Span(date(year, month, 1), _month_end(year, month))
        d = date(year, month, day)
    except ValueError:
        return None  # 2月30日 and the like: not a date
    return Span(d, d)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def parse_date(text: str, today: date) -> Span | None:
    """The first date expression in `text`, or None when there is none."""
    text = normalize(text)
    if m := _FULL.search(text):
        if m["era"]:
            year = ERAS[m["era"]] + (1 if m["eyear"] == "元" else int(m["eyear"])) - 1
        else:
            year = int(m["year"])
        return _span(year, _int(m["month"]), _int(m["day"]))
    if m := _SLASH.search(text):
        return _span(int(m["year"]), int(m["month"]), _int(m["day"]))
    if m := _RELATIVE_YEAR.search(text):
        year = today.year + _RELATIVE_YEAR_OFFSET[m["rel"]]
        return _span(year, int(m["month"]), _int(m["day"]))
    if "先月" in text:
        last = today.replace(day=1) - timedelta(days=1)
        return _span(last.year, last.month, None)
    if "今月" in text:
        return _span(today.year, today.month, None)
    for word, offset in _RELATIVE_DAY.items():
        if word in text:
            d = today + timedelta(days=offset)
            return Span(d, d)
    if m := _MONTH_DAY.search(text):
        # No year: this year's, or last year's if that day is still to come.
        month, day = int(m["month"]), _int(m["day"])
        span = _span(today.year, month, day)
        if span and span.first > today:
            span = _span(today.year - 1, month, day)
        return span
    return None
