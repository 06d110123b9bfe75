"""Bar charts as inline SVG, drawn on the server: no script and no style
attribute, so the pages keep their Content-Security-Policy (style-src 'self').
Colours are presentation attributes; every chart has a <title> and the page
shows the same figures in a table. Labels are escaped (Markup.format)."""

from __future__ import annotations

from markupsafe import Markup

BAR = "#2f6f9f"
TEXT = "#222"
LABEL_CHARS = 16

SVG = Markup(
    '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
)
END = Markup("</svg>")


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
    parts = [SVG.format(w=width, h=height, title=title)]
    for i, (label, n) in enumerate(items):
        y = 4 + i * row
        length = round(room * n / top)
        parts.append(
            Markup(
                '<text x="{lx}" y="{ty}" text-anchor="end" font-size="13" fill="{text}">'
                "{short}</text>"
                '<rect x="{bx}" y="{by}" width="{length}" height="{bh}" fill="{bar}">'
                "<title>{label}: {n}</title></rect>"
                '<text x="{vx}" y="{ty}" font-size="13" fill="{text}">{n}</text>'
            ).format(
                lx=label_width - 6,
                ty=y + 16,
                text=TEXT,
                short=_short(str(label)),
                bx=label_width,
                by=y + 3,
                length=length,
                bh=row - 8,
                bar=BAR,
                label=str(label),
                n=n,
                vx=label_width + length + 6,
            )
        )
    parts.append(END)
    return Markup("").join(parts)


def columns(items: list[tuple[str, int]], title: str, width: int = 640) -> Markup:
    """Vertical bars in order (days, weeks); about eight labels under them."""
    if not items:
        return Markup("")
    height, bottom, left = 180, 24, 36
    room = height - bottom - 16
    step = (width - left) / len(items)
    top = max(n for _, n in items) or 1
    every = max(1, round(len(items) / 8))
    base = height - bottom
    parts = [
        SVG.format(w=width, h=height, title=title),
        Markup(
            '<text x="0" y="14" font-size="12" fill="{text}">{top}</text>'
            '<line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="{text}" stroke-width="1"/>'
        ).format(text=TEXT, top=top, left=left, base=base, w=width),
    ]
    for i, (label, n) in enumerate(items):
        x = left + i * step
        tall = round(room * n / top)
        parts.append(
            Markup(
                '<rect x="{x:.1f}" y="{y}" width="{bw:.1f}" height="{tall}" fill="{bar}">'
                "<title>{label}: {n}</title></rect>"
            ).format(
                x=x + step * 0.15,
                y=base - tall,
                bw=max(1.0, step * 0.7),
                tall=tall,
                bar=BAR,
                label=label,
                n=n,
            )
        )
        if i % every == 0:
            parts.append(
                Markup(
                    '<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="11" '
                    'fill="{text}">{label}</text>'
                ).format(x=x + step / 2, y=height - 6, text=TEXT, label=label)
            )
    parts.append(END)
    return Markup("").join(parts)
