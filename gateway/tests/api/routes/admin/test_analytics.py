"""The center's analytics page (/admin/analytics) against a seeded records
database (PostgreSQL of the session's own, and SQLite): the figures, the
Japanese names, the SVG charts under the CSP, the CSV export, the date range."""

from __future__ import annotations

import csv
import io
import re

import pytest

from soudan import catalogue
from staffops.records import feedback, turns
from tests.staff import NAME, accounts, signed_in

FRAUD = next(key for key, entry in catalogue.entries().items() if entry.group == "fraud")
OTHER = next(
    key for key, entry in catalogue.entries().items() if entry.group != "fraud" and key != FRAUD
)


@pytest.fixture(params=["postgresql", "sqlite"])
def analytics_gateway(request, gateway, tmp_path):
    url = (
        request.getfixturevalue("postgres_url")
        if request.param == "postgresql"
        else f"sqlite:///{tmp_path / 'analytics.sqlite'}"
    )
    accounts_file = accounts(tmp_path / "accounts.json", NAME)
    return lambda: gateway(STAFF_ACCOUNTS_FILE=accounts_file, DATABASE_URL=url)


def seed(engine) -> None:
    def turn(when, topic=None, kind="answer", **extra):
        turns.add(
            engine,
            channel=extra.pop("channel", "web"),
            when=when,
            topic=topic,
            kind=kind,
            intents=[{"name": f"faq/{topic}" if topic else "nlu_fallback", "confidence": 0.8}],
            **extra,
        )

    # 2026-11-29 (Sunday): outside the range asked for below.
    turn("2026-11-29T12:00:00+09:00", FRAUD, scam_type=FRAUD)
    # 2026-11-30 (Monday), the last minutes in Japan time included.
    turn("2026-11-30T09:00:00+09:00", FRAUD, scam_type=FRAUD, prefixes=["0120"])
    turn("2026-11-30T23:50:00+09:00", OTHER, channel="line", prefixes=["050", "0120"])
    turn("2026-11-30T10:00:00+09:00", kind="fallback", text="ぷぉぱ 山田さん 090-1234-5678")
    # 2026-12-01: 00:30 in Japan is still 2026-11-30 in UTC.
    turn("2026-12-01T00:30:00+09:00", FRAUD, scam_type=FRAUD)
    turn("2026-12-01T08:00:00+09:00", kind="fallback", text="ぷぉぱ 山田さん 090-1234-5678")
    turn("2026-12-01T09:00:00+09:00", kind="fallback", text="よくわからない話")
    feedback.add(engine, FRAUD, True, when="2026-11-30T09:01:00+09:00")
    feedback.add(engine, FRAUD, True, when="2026-12-01T00:31:00+09:00")
    feedback.add(engine, FRAUD, False, when="2026-12-01T00:32:00+09:00")
    feedback.add(engine, FRAUD, False, when="2026-11-29T12:01:00+09:00")  # outside


def table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


async def test_the_figures_of_a_seeded_database(analytics_gateway):
    async with analytics_gateway() as client:
        seed(client.app.state.records)
        await signed_in(client)
        resp = await client.get("/admin/analytics?start=2026-11-30&end=2026-12-01")
        assert resp.status_code == 200
        html = resp.text
        assert "2026年11月30日〜2026年12月1日" in html
        assert re.search(r'id="total">6<', html)
        assert "50.0%" in html and "（3 件）" in html  # 3 fallbacks of 6
        assert table(html, "per-day") == [["2026年11月30日", "3"], ["2026年12月1日", "3"]]
        assert table(html, "per-week") == [["2026年11月30日", "6"]]
        fraud, other = catalogue.topic_label(FRAUD), catalogue.topic_label(OTHER)
        assert table(html, "per-topic") == [[fraud, "2"], [other, "1"]]
        assert table(html, "per-scam-type") == [[fraud, "2"]]
        assert table(html, "fallback-phrases") == [
            ["ぷぉぱ 〈名前〉さん 〈電話番号〉", "2"],
            ["よくわからない話", "1"],
        ]
        assert table(html, "feedback") == [[fraud, "2", "1", "67%"]]
        assert table(html, "prefixes") == [["0120", "2"], ["050", "1"]]
        # Japanese names only; no unmasked text; charts as SVG under the CSP.
        assert FRAUD not in html and "1234" not in html and "山田" not in html
        assert html.count("<svg") >= 4 and "style=" not in html and "<script>" not in html
        assert "style-src 'self'" in resp.headers["content-security-policy"]

        exported = await client.get("/admin/analytics.csv?start=2026-11-30&end=2026-12-01")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert ["日別", "2026-11-30", "3", ""] in rows and ["日別", "2026-12-01", "3", ""] in rows
        assert ["理解できなかった割合", "全体", "3", "0.500"] in rows
        assert ["詐欺の種類別", fraud, "2", ""] in rows
        assert ["問い合わせのあった番号の頭", "0120", "2", ""] in rows

        # A wider range takes the Sunday in; a bad date is answered politely.
        wider = (await client.get("/admin/analytics?start=2026-11-29&end=2026-12-01")).text
        assert re.search(r'id="total">7<', wider)
        assert table(wider, "per-week") == [["2026年11月23日", "1"], ["2026年11月30日", "6"]]
        bad = await client.get("/admin/analytics?start=yesterday&end=2026-13-01")
        assert bad.status_code == 200 and "日付を読み取れませんでした" in bad.text


async def test_the_analytics_need_a_signed_in_staff_member(analytics_gateway):
    async with analytics_gateway() as client:
        for path in ("/admin/analytics", "/admin/analytics.csv"):
            resp = await client.get(path)
            assert resp.status_code == 303 and resp.headers["location"] == "/admin/login"


def test_a_period_outside_what_records_can_have_shows_the_last_30_days():
    from app.api.routes.admin.analytics import period

    for start, end in (("0001-01-01", None), (None, "9999-12-31")):
        first, last, note = period(start, end)
        assert (last - first).days == 29 and note
