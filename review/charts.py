"""Coordinates for the review pages' charts, drawn as SVG by templates: no JavaScript, nothing from a CDN.

Every chart has its numbers beside it as a table too (accessible, and readable without the picture).
"""

from __future__ import annotations

from datetime import date

from django.utils.dateformat import format as format_date
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .stats import STATUSES, Outcomes

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 220, 44, 26, 10
COLOURS = {"resolved": "#17663a", "escalated": "#b26a00", "abandoned": "#a4262c", "open": "#79aec8"}
LABELS = {"resolved": "Resolved", "escalated": "Escalated", "abandoned": "Abandoned", "open": "In progress"}


def _nice_top(most: int) -> int:
    """A round number at or above `most` for the y axis, divisible by 4 so the four gridlines are whole numbers."""
    candidates = [4, 8, 12] + [m * 10**e for e in range(1, 10) for m in (2, 4, 6, 8, 10)]
    return next((top for top in candidates if top >= most), most)


def _at(coordinate: float) -> str:
    """A coordinate as the SVG gets it, to a tenth (formatted here: a template filter per bar of a 181-day chart
    took longer than all the page's queries)."""
    return f"{coordinate:.1f}"


PLOT_W, PLOT_H = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
LABEL_Y = HEIGHT - 8


def runs_by_day(days: list[tuple[date, Outcomes]]) -> dict:
    """A stacked bar per day: resolved, escalated, abandoned and in progress."""
    top = _nice_top(max((found.runs for _, found in days), default=0))
    slot = PLOT_W / max(len(days), 1)
    bar_w = max(slot * 0.75, 1)
    label_every = max(1, len(days) // 8)
    bars = [
        _bar(day, found, x=LEFT + n * slot + (slot - bar_w) / 2, w=bar_w, top=top, labelled=n % label_every == 0)
        for n, (day, found) in enumerate(days)
    ]
    # The bars and the table's rows as markup: a day's bar and row through the template language (a variable and a
    # filter at a time) took a third of a 181-day overview's time.
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - 8,
        "base": TOP + PLOT_H,
        "bars_svg": mark_safe("".join(_bar_svg(bar, LABEL_Y) for bar in bars)),  # noqa: S308 - escaped in _bar_svg
        "table_rows": mark_safe("".join(_table_row(day, found) for day, found in days)),  # noqa: S308 - likewise
        "ticks": _ticks(top),
        "legend": [{"status": s, "label": LABELS[s], "colour": COLOURS[s]} for s in STATUSES],
    }


def _bar(day: date, found: Outcomes, *, x: float, w: float, top: int, labelled: bool) -> dict:
    """One day's bar at `x`, `w` wide, on a y axis up to `top` runs; its date beneath it when `labelled`."""
    return {
        "x": _at(x),
        "w": _at(w),
        "day": day,
        "runs": found.runs,
        "segments": _segments(found, top),
        "label": day.strftime("%d %b") if labelled else "",
        "lx": _at(x + w / 2),
    }


def _segments(found: Outcomes, top: int) -> list[dict]:
    """A day's outcomes stacked up from the base line, in the order of STATUSES; none for an outcome of no runs."""
    y = TOP + PLOT_H
    segments = []
    for status in STATUSES:
        count = getattr(found, status)
        if count:
            h = PLOT_H * count / top
            y -= h
            segments.append({"colour": COLOURS[status], "y": _at(y), "h": _at(h)})
    return segments


def _ticks(top: int) -> list[dict]:
    """The y axis's five gridlines, from 0 to `top` runs."""
    return [{"value": top * k // 4, "y": _at(TOP + PLOT_H - PLOT_H * k / 4)} for k in range(5)]


def _bar_svg(bar: dict, label_y: int) -> str:
    """One day's stacked bar, with its tooltip and (every few days) its label. Plain formatting, the one text (a
    date) escaped: numbers formatted here and our own colours need no escaping, and format_html's checks of every
    argument cost more than the rest of the bar."""
    runs = bar["runs"]
    rects = "".join(
        f'<rect x="{bar["x"]}" y="{s["y"]}" width="{bar["w"]}" height="{s["h"]}" fill="{s["colour"]}"/>'
        for s in bar["segments"]
    )
    label = (
        f'<text x="{bar["lx"]}" y="{label_y}" font-size="11" text-anchor="middle" fill="#5b6776">'
        f"{escape(bar['label'])}</text>"
        if bar["label"]
        else ""
    )
    title = f"{escape(format_date(bar['day'], 'j M'))}: {runs} run{'' if runs == 1 else 's'}"
    return f'<g class="bar"><title>{title}</title>{rects}</g>{label}'


def _table_row(day: date, found: Outcomes) -> str:
    """One day of the chart's table (formatted as `_bar_svg` is)."""
    cells = "".join(
        f"<td>{value}</td>"
        for value in (found.runs, found.resolved, found.escalated, found.abandoned, found.open, found.rate_text)
    )
    return f'<tr><th scope="row">{escape(format_date(day, "D j M"))}</th>{cells}</tr>'
