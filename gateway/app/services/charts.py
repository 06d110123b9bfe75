"""Bar charts as inline SVG, drawn on the server: no script and no style
attribute, so the pages keep their Content-Security-Policy (style-src 'self').
Colours are presentation attributes; every chart has a <title> and the page
shows the same figures in a table."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#2f6f9f"
TEXT = "#222"
LABEL_CHARS = 16


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bars(items: list[tuple[str, int]], title: str, width: int = 640) -> Markup:
    """Horizontal bars, one row per (label, count), longest bar for the largest."""
    if not items:
        return Markup("")
    row, label_width, value_width = 24, 220, 60
    room = width - label_width - value_width
    top = max(n for _, n in items) or 1
    height = row * len(items) + 8
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, n) in enumerate(items):
        y = 4 + i * row
        length = round(room * n / top)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" font-size="13" '
            f'fill="{TEXT}">{escape(_short(str(label)))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{row - 8}" '
            f'fill="{BAR}"><title>{escape(label)}: {n}</title></rect>'
            f'<text x="{label_width + length + 6}" y="{y + 16}" font-size="13" '
            f'fill="{TEXT}">{n}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(items: list[tuple[str, int]], title: str, width: int = 640) -> Markup:
    """Vertical bars in order (days, weeks); about eight labels under them."""
    if not items:
        return Markup("")
    height, bottom, left = 180, 24, 36
    room = height - bottom - 16
    step = (width - left) / len(items)
    top = max(n for _, n in items) or 1
    every = max(1, round(len(items) / 8))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-size="12" fill="{TEXT}">{top}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        f'stroke="{TEXT}" stroke-width="1"/>',
    ]
    for i, (label, n) in enumerate(items):
        x = left + i * step
        tall = round(room * n / top)
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{height - bottom - tall}" '
            f'width="{max(1.0, step * 0.7):.1f}" height="{tall}" fill="{BAR}">'
            f"<title>{escape(label)}: {n}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'font-size="11" fill="{TEXT}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
