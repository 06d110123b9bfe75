"""The server-drawn SVG charts: bars in proportion, labels escaped, no style or script."""

from __future__ import annotations

import re

from app.services.charts import bars, columns


def test_bars_are_in_proportion_and_labels_escaped():
    svg = str(bars([("<script>alert(1)</script>", 4), ("ふつう", 1)], "話題別"))
    widths = [int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', svg)]
    assert widths[0] == 4 * widths[1]
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg and svg.startswith("<svg") and "<title>話題別</title>" in svg


def test_columns_have_one_bar_a_day_and_a_few_labels():
    days = [(f"12/{d}", d % 3) for d in range(1, 31)]
    svg = str(columns(days, "日別"))
    assert svg.count("<rect") == 30
    assert 5 <= len(re.findall(r'text-anchor="middle"', svg)) <= 10
    assert bars([], "x") == "" and columns([], "x") == ""
