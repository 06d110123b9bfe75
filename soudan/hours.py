"""Is a hotline open now, and if not, when does it next open?

Opening hours are data in knowledge.yml (`schedule` of each hotline);
national holidays, 振替休日 and 国民の休日 included, come from `jpholiday`.
Every function takes the moment to judge, so tests and the bot pin any time;
moments are converted to Japan time whatever the server's time zone is.

A schedule is either `always` (110), null (hours vary by prefecture or
office: the state is unknown), or a mapping:

    windows:                      # opening windows, per kind of day
      - {days: [mon, tue, wed, thu, fri], open: "09:00", close: "21:00"}
      - {days: [sat], open: "09:00", close: "17:00"}
      - {days: [holiday], open: "10:00", close: "16:00"}   # national holidays
    closed_on_holidays: true      # holidays without a window of their own are closed
    year_end_closure: true        # the default closure (knowledge.yml), or {from, until}
    varies_on: [mon, tue]         # days whose hours depend on the local office
    automated: always             # a recorded-voice channel open 24 hours

`days`/`open`/`close` at the top level is the one-window short form.
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


def closure_dates(schedule: dict) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(from, until) as (month, day) pairs, or None when the line has no closure."""
    closure = schedule.get("year_end_closure")
    if not closure:
        return None
    if closure is True:
        closure = knowledge()["year_end_closure"]
    start_m, start_d = (int(x) for x in closure["from"].split("-"))
    end_m, end_d = (int(x) for x in closure["until"].split("-"))
    return (start_m, start_d), (end_m, end_d)


def in_year_end_closure(day: date, schedule: dict | None = None) -> bool:
    dates = closure_dates(schedule if schedule is not None else {"year_end_closure": True})
    if dates is None:
        return False
    start, end = dates
    here = (day.month, day.day)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end  # spans the new year


def windows(schedule: dict) -> list[dict]:
    if "windows" in schedule:
        return schedule["windows"]
    return [{"days": schedule["days"], "open": schedule["open"], "close": schedule["close"]}]


@dataclass(frozen=True)
class Day:
    """What one calendar day looks like for a line."""

    opens: time | None = None
    closes: time | None = None
    closed_because: str | None = None  # why it does not open that day
    varies: bool = False  # hours depend on the local office

    @property
    def opens_at_all(self) -> bool:
        return self.opens is not None


def day_plan(schedule: dict, day: date) -> Day:
    if in_year_end_closure(day, schedule):
        return Day(closed_because="年末年始のお休み")
    name = holiday_name(day)
    weekday = WEEKDAYS[day.weekday()]
    kinds = ["holiday"] if name else []
    if not name or not schedule.get("closed_on_holidays"):
        kinds.append(weekday)
    if name and schedule.get("closed_on_holidays") and not _window_for(schedule, ["holiday"]):
        return Day(closed_because=name)
    window = _window_for(schedule, kinds)
    if window:
        return Day(_hm(window["open"]), _hm(window["close"]))
    if weekday in schedule.get("varies_on", []) and not name:
        return Day(varies=True)
    return Day(closed_because=name or f"{WEEKDAY_JA[day.weekday()]}曜日")


def _window_for(schedule: dict, kinds: list[str]) -> dict | None:
    # A holiday window wins over the weekday's own.
    for kind in kinds:
        for window in windows(schedule):
            if kind in window["days"]:
                return window
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
    automated_open: bool = False  # a 24-hour recorded-voice channel takes calls now

    @property
    def reachable(self) -> bool:
        """Someone or something takes the call now (an operator or the automated channel)."""
        return self.is_open or self.automated_open

    def label(self) -> str:
        """「受付中（17:00まで）」 or 「受付時間外・次は11月24日（月）10:00から受付」.

        A line with a 24-hour automated channel says which channel is open:
        「オペレーターは時間外（次は…）・自動音声は24時間受付中」.
        """
        if not self.known:
            return self.hotline.hours_text
        if self.is_open:
            if self.closes_at is None:
                return "24時間受付"
            if self.automated_open:
                return f"オペレーター受付中（{self.closes_at:%H:%M}まで）・自動音声は24時間受付"
            return f"受付中（{self.closes_at:%H:%M}まで）"
        when = describe_moment(self.next_open, self.at) if self.next_open else "未定"
        reason = f"（{self.closed_because}）" if self.closed_because else ""
        if self.automated_open:
            return f"オペレーターは時間外{reason}・次は{when}から／自動音声は24時間受付中"
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
    automated = schedule.get("automated") == "always"
    today = day_plan(schedule, at.date())
    if today.varies:
        return OpenState(hotline, at, known=False, is_open=False, automated_open=automated)
    if today.opens_at_all and today.opens <= at.time() < today.closes:
        closes = datetime.combine(at.date(), today.closes, JST)
        return OpenState(hotline, at, True, True, closes_at=closes, automated_open=automated)
    # Today still counts when it opens later today.
    if today.opens_at_all and at.time() < today.opens:
        opens = datetime.combine(at.date(), today.opens, JST)
        return OpenState(hotline, at, True, False, next_open=opens, automated_open=automated)
    for offset in range(1, HORIZON_DAYS + 1):
        candidate = at.date() + timedelta(days=offset)
        plan = day_plan(schedule, candidate)
        if plan.varies:
            # The next opening depends on the local office: say what is known.
            return OpenState(hotline, at, known=False, is_open=False, automated_open=automated)
        if plan.opens_at_all:
            return OpenState(
                hotline,
                at,
                known=True,
                is_open=False,
                next_open=datetime.combine(candidate, plan.opens, JST),
                closed_because=today.closed_because,
                automated_open=automated,
            )
    return OpenState(
        hotline, at, True, False, closed_because=today.closed_because, automated_open=automated
    )
