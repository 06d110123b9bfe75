"""The center's analytics (/admin/analytics): what citizens ask, from the records.

Messages per day and week, per topic and scam type, the share the bot did
not understand and the phrases it missed (masked), feedback per topic, and
the number beginnings people asked about (counts only), between two days
(Japan time). Charts are server-rendered SVG (app.services.charts); the same
figures download as CSV. Staff only, like every /admin page.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.routes.admin.common import render
from app.api.routes.admin.signin import StaffDep
from app.services.charts import bars, columns
from staffops.inbox_groups import EARLIEST_DAY, LATEST_DAY
from staffops.records import analytics as figures
from staffops.records.database import JST

router = APIRouter(prefix="/admin", include_in_schema=False)

DEFAULT_DAYS = 30
MAX_DAYS = 366


def japanese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period(start: str | None, end: str | None) -> tuple[date, date, str]:
    """The days asked for (YYYY-MM-DD), else the last DEFAULT_DAYS; a note when
    what was given could not be read or was too long."""
    today = datetime.now(JST).date()
    note = ""
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
        if not (EARLIEST_DAY <= first <= LATEST_DAY and EARLIEST_DAY <= last <= LATEST_DAY):
            raise ValueError("a day no record can have")  # year 1 or 9999 overflow in JST
    except ValueError:
        last, first = today, today - timedelta(days=DEFAULT_DAYS - 1)
        note = "日付を読み取れませんでした。直近30日を表示しています。"
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        note = "期間は最長1年です。終わりの日から1年分を表示しています。"
    return first, last, note


async def figures_of(request: Request, start: str | None, end: str | None):
    first, last, note = period(start, end)
    engine = request.app.state.records
    found = await asyncio.to_thread(figures.figures, engine, first, last)
    return found, note


@router.get("/analytics", response_class=HTMLResponse)
async def analytics_page(
    request: Request, staff: StaffDep, start: str | None = None, end: str | None = None
) -> HTMLResponse:
    found, note = await figures_of(request, start, end)
    days = [(f"{d.month}/{d.day}", n) for d, n in found.per_day]
    weeks = [(f"{d.month}/{d.day}〜", n) for d, n in found.per_week]
    feedback = [
        (name, helpful, not_helpful, helpful / (helpful + not_helpful))
        for name, helpful, not_helpful in found.feedback
    ]
    return render(
        request,
        "analytics.html",
        {
            "f": found,
            "start": found.start.isoformat(),
            "end": found.end.isoformat(),
            "period": f"{japanese_date(found.start)}〜{japanese_date(found.end)}",
            "error": note,
            "days": [(japanese_date(d), n) for d, n in found.per_day],
            "weeks": [(japanese_date(d), n) for d, n in found.per_week],
            "feedback": feedback,
            "day_chart": columns(days, "日別の相談件数"),
            "week_chart": columns(weeks, "週別の相談件数"),
            "topic_chart": bars(found.per_topic[:15], "話題別の件数"),
            "scam_chart": bars(found.per_scam_type, "詐欺の種類別の件数"),
            "prefix_chart": bars(found.prefixes[:15], "問い合わせのあった番号の頭"),
        },
        staff,
    )


@router.get("/analytics.csv")
async def analytics_csv(
    request: Request, staff: StaffDep, start: str | None = None, end: str | None = None
) -> Response:
    found, _ = await figures_of(request, start, end)
    out = io.StringIO()
    csv.writer(out).writerows(figures.csv_rows(found))
    name = f"analytics-{found.start.isoformat()}-{found.end.isoformat()}.csv"
    # With a byte-order mark: spreadsheet software then reads the Japanese right.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
