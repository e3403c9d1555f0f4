"""Bar charts drawn on the server as SVG: no chart library, no script, readable without
colour (each bar is labelled in its <title>, and the page repeats the figures in a table)."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from markupsafe import Markup

from commune.text.numbers import colon, number
from commune.web import i18n

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 240, 76, 40, 24
# Labels under the axis: at most this many, so that they never overlap. On a phone the chart
# shrinks to about half its units and the stylesheet draws the type larger in them (about
# 10 px on the screen): six labels of up to nine characters still fit their slots.
MAX_LABELS = 6
LABEL_CHARS = 9


def _nice(top: float) -> float:
    """A round upper bound for the axis: 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return float(step * power)
    return float(10 * power)


def figure(value: float) -> str:
    """A figure of the chart as the tables beside it write theirs, in the page's language
    ("0,0025" in French, not "0.0025"): whole numbers without decimals, three significant
    digits below one (never "1e-05")."""
    if value == 0:
        return "0"
    if abs(value) >= 100 or value == int(value):
        digits = 0
    elif abs(value) >= 1:
        digits = 1
    else:
        digits = 2 - math.floor(math.log10(abs(value)))
    language = i18n.current()
    text = number(value, digits, language)
    point = "," if language == "fr" else "."  # the decimal one: French groups with a space
    return text.rstrip("0").rstrip(point) if point in text else text


def _short(label: str) -> str:
    """A day (2026-12-03) as its month and day; a name cut to fit its slot (the bar's
    <title> and the table give it whole)."""
    if len(label) == 10 and label[4] == "-" and label[7] == "-":
        return label[5:]
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bars(
    points: list[tuple[str, float]],
    title: str,
    unit: str,
    each: Callable[[float], str] | None = None,
) -> Markup:
    """An accessible SVG bar chart of ``points`` (label, value), in the page's language.
    ``unit`` heads the axis; ``each`` says a bar's value with its unit where the unit has a
    singular ("1 requête"); else the value and ``unit``."""
    said = each or (lambda v: f"{figure(v)} {unit}")
    top = _nice(max((v for _, v in points), default=0.0))
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    n = max(len(points), 1)
    slot = inner_w / n
    bar_w = max(2.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0, 0.5, 1):
        y = TOP + inner_h * (1 - frac)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" '
            'class="axis">'
            f"{escape(figure(top * frac))}</text>"
        )
    parts.append(f'<text x="4" y="{TOP - 8}" class="axis">{escape(unit)}</text>')
    every = -(-n // MAX_LABELS)  # ceil: at most MAX_LABELS labels under the axis
    for i, (label, value) in enumerate(points):
        h = inner_h * (value / top) if top else 0
        x = LEFT + i * slot + (slot - bar_w) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + inner_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" class="bar"><title>{escape(label)}{colon(i18n.current())} '
            f"{escape(said(value))}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 24}" text-anchor="middle" '
                f'class="axis">{escape(_short(label))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
