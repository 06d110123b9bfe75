"""Opening hours at their edges, in Japan time whatever the server's zone."""

from __future__ import annotations

import os
import time as time_module
from datetime import datetime, timezone

import pytest

from soudan.hours import JST, in_year_end_closure, open_state
from soudan.knowledge import hotline

CENTER = hotline("center")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-24 09:59", False),  # Tuesday, before opening
        ("2026-11-24 10:00", True),
        ("2026-11-24 16:59", True),
        ("2026-11-24 17:00", False),
        ("2026-11-28 12:00", False),  # Saturday
        ("2026-11-29 12:00", False),  # Sunday
        ("2026-11-23 12:00", False),  # 勤労感謝の日 (Monday)
        ("2026-05-06 12:00", False),  # 振替休日 for 憲法記念日 on a Sunday
        ("2026-09-22 12:00", False),  # 国民の休日 between 敬老の日 and 秋分の日
        ("2026-12-28 16:59", True),  # last day before the year-end closure
        ("2026-12-29 12:00", False),
        ("2027-01-03 12:00", False),  # Sunday and the closure's last day
        ("2027-01-04 10:00", True),  # first day back
    ],
)
def test_center_open_at_the_edges(moment, is_open):
    assert open_state(CENTER, at(moment)).is_open is is_open


def test_next_opening_after_a_weekend():
    state = open_state(CENTER, at("2026-11-28 20:00"))
    assert state.next_open == at("2026-11-30 10:00")
    assert state.label() == "受付時間外（土曜日）・次は11月30日（月）10:00から受付"


def test_next_opening_same_day_and_tomorrow():
    assert open_state(CENTER, at("2026-11-24 09:59")).label() == "受付時間外・次は本日10:00から受付"
    assert (
        open_state(CENTER, at("2026-11-24 17:00")).label()
        == "受付時間外・次は明日（水）10:00から受付"
    )
    assert open_state(CENTER, at("2026-11-24 12:00")).label() == "受付中（17:00まで）"


def test_holiday_reason_and_year_end():
    state = open_state(CENTER, at("2026-05-06 12:00"))
    assert "振替休日" in state.label() and state.next_open == at("2026-05-07 10:00")
    state = open_state(CENTER, at("2026-12-31 12:00"))
    assert state.closed_because == "年末年始のお休み"
    assert state.next_open == at("2027-01-04 10:00")


def test_year_end_closure_is_data():
    assert in_year_end_closure(at("2026-12-29 00:00").date())
    assert not in_year_end_closure(at("2026-12-28 00:00").date())
    assert in_year_end_closure(at("2027-01-03 00:00").date())
    assert not in_year_end_closure(at("2027-01-04 00:00").date())


def test_lines_with_their_own_hours():
    noon_sat = at("2026-11-28 12:00")
    assert open_state(hotline("police_emergency"), noon_sat).is_open
    assert open_state(hotline("police_emergency"), noon_sat).label() == "24時間受付"
    docomo = open_state(hotline("docomo_support"), at("2026-11-24 17:30"))
    assert docomo.is_open and docomo.label() == "受付中（18:00まで）"
    intl = open_state(hotline("intl_stop"), at("2026-11-24 09:00"))
    assert intl.is_open
    varies = open_state(hotline("police_consult"), noon_sat)
    assert not varies.known and "都道府県" in varies.label()


def test_a_utc_moment_is_judged_in_japan_time():
    # 2026-11-24 00:30 UTC is 09:30 JST (closed); 01:00 UTC is 10:00 JST (open).
    assert not open_state(CENTER, datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)).is_open
    assert open_state(CENTER, datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)).is_open
    # Friday 23:00 UTC is Saturday 08:00 JST.
    assert not open_state(CENTER, datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc)).is_open


def test_server_time_zone_does_not_matter(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time_module.tzset()
    try:
        assert open_state(CENTER, at("2026-11-24 10:00")).is_open
        assert os.environ["TZ"] == "UTC"
    finally:
        monkeypatch.undo()
        time_module.tzset()


def test_naive_moment_is_refused():
    with pytest.raises(ValueError):
        open_state(CENTER, datetime(2026, 11, 24, 12, 0))
