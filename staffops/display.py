"""How staff pages write times: 「2026年12月1日 21:56」 in Japan time.

One formatter for every staff page (the gateway registers it as the Jinja
filter `jst`). Plain module: no FastAPI.
"""

from __future__ import annotations

from datetime import datetime, timezone

from staffops.records.database import JST

UNKNOWN = "不明"


def time_ja(value: datetime | str | float | int | None) -> str:
    """A time as staff read it, in Japan time: 「2026年12月1日 21:56」.

    Takes what the records hold: an ISO 8601 string (with or without an
    offset; without one it is UTC, as the records store it), an aware or naive
    (UTC) datetime, or a Unix time in seconds. 「不明」 for what is not a time.
    """
    if value is None or value == "":
        return UNKNOWN
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        if isinstance(value, int | float):
            when = datetime.fromtimestamp(float(value), timezone.utc)
        elif isinstance(value, datetime):
            when = value
        else:
            when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError, OSError):
        return UNKNOWN
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    local = when.astimezone(JST)
    # Month, day and hour without a leading zero, as Japanese dates are written.
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}:{local.minute:02d}"


def date_ja(value: datetime | str | None) -> str:
    """Only the day: 「2026年12月1日」 (Japan time)."""
    full = time_ja(value)
    return full.split(" ")[0] if full != UNKNOWN else full
