"""Is a hotline open now, and if not, when does it next open?

Opening hours are data in knowledge.yml (`schedule` of each hotline and
`year_end_closure`); national holidays, 振替休日 and 国民の休日 included, come
from `jpholiday`. Every function takes the moment to judge, so tests and the
bot pin any time; moments are converted to Japan time whatever the server's
time zone is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

from soudan.knowledge import Hotline, knowledge

JST = ZoneInfo("Asia/Tokyo")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_JA = "月火水木金土日"
# How far ahead to look for the next opening (covers the year-end closure
# next to a long holiday run with room to spare).
HORIZON_DAYS = 21


def now_jst() -> datetime:
    """The current moment in Japan time.

    SOUDAN_NOW (ISO 8601 with offset, e.g. 2026-11-28T20:00+09:00) pins it
    for demonstrations and live tests; it is never set in production.
    """
    pinned = os.environ.get("SOUDAN_NOW")
    if pinned:
        return to_jst(datetime.fromisoformat(pinned))
    return datetime.now(JST)


def to_jst(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime; naive times are ambiguous on a UTC server")
    return moment.astimezone(JST)


def holiday_name(day: date) -> str | None:
    return jpholiday.is_holiday_name(day)


def in_year_end_closure(day: date) -> bool:
    closure = knowledge()["year_end_closure"]
    start_m, start_d = (int(x) for x in closure["from"].split("-"))
    end_m, end_d = (int(x) for x in closure["until"].split("-"))
    start, end = (start_m, start_d), (end_m, end_d)
    here = (day.month, day.day)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end  # spans the new year


def closed_reason(schedule: dict, day: date) -> str | None:
    """Why the line is closed all day, or None when it opens that day."""
    if schedule.get("year_end_closure") and in_year_end_closure(day):
        return "年末年始のお休み"
    if schedule.get("closed_on_holidays") and (name := holiday_name(day)):
        return name
    if WEEKDAYS[day.weekday()] not in schedule["days"]:
        return f"{WEEKDAY_JA[day.weekday()]}曜日"
    return None


def _hm(text: str) -> time:
    hour, minute = (int(x) for x in text.split(":"))
    return time(hour, minute)


@dataclass(frozen=True)
class OpenState:
    """The state of one line at one moment."""

    hotline: Hotline
    at: datetime
    known: bool  # False when hours vary (by prefecture or office)
    is_open: bool
    closes_at: datetime | None = None
    next_open: datetime | None = None
    closed_because: str | None = None

    def label(self) -> str:
        """「受付中（17:00まで）」 or 「受付時間外・次は11月24日（月）10:00から受付」."""
        if not self.known:
            return self.hotline.hours_text
        if self.is_open:
            if self.closes_at is None:
                return "24時間受付"
            return f"受付中（{self.closes_at:%H:%M}まで）"
        when = describe_moment(self.next_open, self.at) if self.next_open else "未定"
        reason = f"（{self.closed_because}）" if self.closed_because else ""
        return f"受付時間外{reason}・次は{when}から受付"


def describe_moment(moment: datetime, reference: datetime) -> str:
    """「本日10:00」「明日（火）10:00」「11月24日（月）10:00」."""
    moment, reference = to_jst(moment), to_jst(reference)
    days = (moment.date() - reference.date()).days
    weekday = WEEKDAY_JA[moment.weekday()]
    clock = f"{moment:%H:%M}"
    if days == 0:
        return f"本日{clock}"
    if days == 1:
        return f"明日（{weekday}）{clock}"
    return f"{moment.month}月{moment.day}日（{weekday}）{clock}"


def open_state(hotline: Hotline, moment: datetime) -> OpenState:
    at = to_jst(moment)
    schedule = hotline.schedule
    if schedule == "always":
        return OpenState(hotline, at, known=True, is_open=True)
    if not schedule:
        return OpenState(hotline, at, known=False, is_open=False)
    opens, closes = _hm(schedule["open"]), _hm(schedule["close"])
    today_reason = closed_reason(schedule, at.date())
    if today_reason is None and opens <= at.time() < closes:
        return OpenState(
            hotline,
            at,
            known=True,
            is_open=True,
            closes_at=datetime.combine(at.date(), closes, JST),
        )
    day = at.date()
    # Today still counts when it opens later today.
    if today_reason is None and at.time() < opens:
        return OpenState(
            hotline,
            at,
            known=True,
            is_open=False,
            next_open=datetime.combine(day, opens, JST),
        )
    for offset in range(1, HORIZON_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if closed_reason(schedule, candidate) is None:
            return OpenState(
                hotline,
                at,
                known=True,
                is_open=False,
                next_open=datetime.combine(candidate, opens, JST),
                closed_because=today_reason,
            )
    return OpenState(hotline, at, known=True, is_open=False, closed_because=today_reason)
