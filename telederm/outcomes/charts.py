"""Bar charts as inline SVG, drawn on the server.

No script and no ``style`` attribute (the Content-Security-Policy allows neither inline): only
SVG presentation attributes. Each chart has a title and a description for screen readers, each
bar a tooltip with its label and count, and every chart is also shown as a table on the page.
"""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 46
ACCENT, LINE, TEXT, MUTED = "#0b5c6b", "#d5dde0", "#1b2428", "#4f5b61"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def bar_chart(
    slug: str, title: str, rows: list[tuple[str, int]], description: str = ""
) -> SafeString:
    """A vertical bar chart of labelled counts."""
    top = nice_ceiling(max((count for _label, count in rows), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(rows), 1)
    bar_w = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{slug}-title {slug}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{slug}-title">{escape(title)}</title>',
        f'<desc id="{slug}-desc">{escape(description)}</desc>',
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        value = top * fraction
        label = f"{value:g}" if value != int(value) else str(int(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{LINE}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{label}</text>'
        )
    small = len(rows) > 14
    for index, (label, count) in enumerate(rows):
        height = plot_h * count / top
        x = LEFT + index * slot + (slot - bar_w) / 2
        y = TOP + plot_h - height
        centre = x + bar_w / 2
        tip = escape(f"{label}: {count}")
        parts.append(
            f"<g><title>{tip}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
            f'fill="{ACCENT}"/>'
        )
        if count and not small:
            parts.append(
                f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'fill="{TEXT}">{count}</text>'
            )
        label_y = TOP + plot_h + 16
        parts.append(
            f'<text x="{centre:.1f}" y="{label_y}" fill="{MUTED}"'
            + (
                f' text-anchor="end" transform="rotate(-40 {centre:.1f} {label_y})"'
                if small
                else ' text-anchor="middle"'
            )
            + f">{escape(label)}</text></g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above
