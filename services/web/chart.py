"""A region's index over time against its masterplan path: an inline SVG chart drawn on the server.

The pages work without JavaScript under a strict Content-Security-Policy (``default-src 'none';
style-src 'self'; img-src 'self'``), so the chart carries no ``style`` attribute, no ``<style>`` and no
``<script>``: its looks are SVG presentation attributes (defaults that the stylesheet may override
through the class names) and its words come from the catalogue (services/web/messages.py, keys
``chart.*``). Every text is escaped.

Geometry: a viewBox ``width`` x ``height`` with the plot inside the margins :data:`LEFT`, :data:`RIGHT`,
:data:`TOP` and :data:`BOTTOM`. The x axis is linear in days from ``card.start`` (the plot's left edge)
to ``card.end`` (its right edge), with a tick and a year label on each 1 January; the y axis runs from
0 (bottom) to 5 (top) with gridlines at 1, 2, 3 and 4, the boundaries of the PP 59/2022 levels.
Coordinates are rounded to a tenth of a unit (halves up), written as :func:`services.web.map.number`
writes them. Points and milestones outside the x range are left out (they have nowhere to go).

:func:`chart_rows` gives the same figures as a table, for those who cannot see the chart.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

from services.web.map import number as _n
from services.web.messages import Messages
from services.web.views import ChartPoint, MilestoneMark, RegionCard

#: Margins of the plot inside the viewBox: room for the y labels (left), the last value's text
#: (right), the legend (top), the year labels and the x axis label (bottom).
LEFT: Final = 48
RIGHT: Final = 56
TOP: Final = 36
BOTTOM: Final = 48
#: The index scale.
Y_MIN: Final = 0.0
Y_MAX: Final = 5.0
#: Gridlines: the level boundaries of PP 59/2022.
GRIDLINES: Final = (1, 2, 3, 4)

#: Default looks (the stylesheet may override them by class). The two series keep at least 3:1 against
#: the white page (WCAG 1.4.11): #1a1a1a 17.4:1, #595959 7.0:1.
HISTORY_STROKE: Final = "#1a1a1a"
PATH_STROKE: Final = "#595959"
MILESTONE_FILL: Final = "#595959"
AXIS_STROKE: Final = "#595959"
GRID_STROKE: Final = "#d9d9d9"
TEXT_FILL: Final = "#333333"
PATH_DASH: Final = "6 4"
FONT_SIZE: Final = 12
#: Half the width of a milestone's diamond, and the height of a milestone tick on the x axis.
DIAMOND: Final = 5
MILESTONE_TICK: Final = 10
#: Length of a year tick below the x axis.
YEAR_TICK: Final = 5
#: Year labels closer together than this are thinned out (every second, third ... year).
YEAR_LABEL_SPACING: Final = 36
#: An estimate of a character's width in the legend (font size 12), to place its entries one after another.
LEGEND_CHAR: Final = 7
LEGEND_SAMPLE: Final = 24


#: Coordinates are kept in integer tenths of a viewBox unit (as the map's, services/web/map.py).
T: Final = 10
#: The x of the (rotated) y axis label.
AXIS_LABEL_X: Final = 14


def _tenths(value: float) -> int:
    return math.floor(value * T + 0.5)  # half up


class _Frame:
    """Days and index values to viewBox tenths."""

    def __init__(self, start: dt.date, end: dt.date, width: int, height: int) -> None:
        if width <= LEFT + RIGHT or height <= TOP + BOTTOM:
            raise ValueError(f"a chart of {width} x {height} leaves no room for the plot inside its margins")
        self.start, self.end = start, end
        self.span = max((end - start).days, 1)
        self.plot_width, self.plot_height = width - LEFT - RIGHT, height - TOP - BOTTOM
        self.left, self.right = LEFT * T, (width - RIGHT) * T
        self.top, self.bottom = TOP * T, (height - BOTTOM) * T

    def x(self, day: dt.date) -> int:
        return _tenths(LEFT + self.plot_width * (day - self.start).days / self.span)

    def y(self, value: float) -> int:
        return _tenths(TOP + self.plot_height * (Y_MAX - value) / (Y_MAX - Y_MIN))

    def points(self, series: Sequence[ChartPoint]) -> str:
        return " ".join(f"{_n(self.x(p.x))},{_n(self.y(p.y))}" for p in series)


def _line(x1: int, y1: int, x2: int, y2: int, attributes: str = "", inner: str = "") -> str:
    """A ``<line>`` between two points in tenths, with further (already escaped) attributes and content."""
    head = f'<line{attributes} x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"'
    return f"{head}>{inner}</line>" if inner else f"{head}/>"


def _text(x: int, y: int, content: str, css: str, anchor: str = "middle", attributes: str = "") -> str:
    return f'<text class="{css}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{attributes}>{escape(content)}</text>'


def _in_range(card: RegionCard) -> tuple[list[ChartPoint], list[ChartPoint], list[MilestoneMark]]:
    """The history points, path points and milestones between ``card.start`` and ``card.end``."""

    def inside(day: dt.date) -> bool:
        return card.start <= day <= card.end

    return ([p for p in card.history if inside(p.x)], [p for p in card.path if inside(p.x)],
            [m for m in card.milestones if inside(m.due)])  # fmt: skip


def chart_ids(card: RegionCard) -> tuple[str, str]:
    """The ids of the chart's ``<title>`` and ``<desc>``: ``chart-32-73-title``, ``chart-32-73-desc``."""
    base = "chart-" + card.code.replace(".", "-")
    return f"{base}-title", f"{base}-desc"


def chart_title(card: RegionCard, msg: Messages) -> str:
    """The chart's name: whose index, with or without a path, over which years."""
    s, e = card.start.year, card.end.year
    years = str(s) if s == e else msg("chart.years", start=s, end=e)
    key = "chart.title" if _in_range(card)[1] else "chart.title.no_path"
    return msg(key, name=card.name, years=years)


def chart_description(card: RegionCard, msg: Messages) -> str:
    """The chart in words: the latest index and its day, and the value and day where the path ends.

    The latest index's day is its snapshot's day when the last history point is the latest snapshot's
    (the period's last day may still lie ahead), else the period's last day."""
    history, path, _ = _in_range(card)
    if history:
        last, latest = history[-1], card.latest
        exact = latest is not None and latest.index is not None and last == card.history[-1]
        day = latest.day if exact and latest is not None else last.x
        told = msg("chart.desc.latest", value=msg.number(last.y), day=msg.day(day))
    else:
        told = msg("chart.desc.no_history")
    if path:
        ahead = msg("chart.desc.path", value=msg.number(path[-1].y), day=msg.day(path[-1].x))
    else:
        ahead = msg("chart.desc.no_path")
    return msg("chart.desc", history=told, path=ahead)


def milestone_title(mark: MilestoneMark, msg: Messages) -> str:
    """A milestone's tooltip: ``Tahap 1: indeks 3,50, 31 Desember 2026`` (a milestone without an index
    target sets dimension targets, and says so)."""
    label = mark.label or msg("chart.milestone.unnamed")
    if mark.index is None:
        return msg("chart.milestone.other", label=label, day=mark.due_text)
    return msg("chart.milestone", label=label, index=mark.index_text, day=mark.due_text)


def _axes(frame: _Frame, msg: Messages) -> list[str]:
    parts = [f'<g class="grid" stroke="{GRID_STROKE}" stroke-width="1">']
    parts += [_line(frame.left, frame.y(v), frame.right, frame.y(v)) for v in GRIDLINES]
    parts.append("</g>")
    years = [dt.date(y, 1, 1) for y in range(frame.start.year, frame.end.year + 1)]
    years = [d for d in years if frame.start <= d <= frame.end]
    parts += [
        f'<g class="axis" stroke="{AXIS_STROKE}" stroke-width="1">',
        _line(frame.left, frame.top, frame.left, frame.bottom),
        _line(frame.left, frame.bottom, frame.right, frame.bottom),
        *(_line(frame.x(d), frame.bottom, frame.x(d), frame.bottom + YEAR_TICK * T) for d in years),
        "</g>",
        f'<g class="axis-labels" fill="{TEXT_FILL}" font-size="{FONT_SIZE}">',
    ]
    for v in (int(Y_MIN), *GRIDLINES, int(Y_MAX)):
        parts.append(_text(frame.left - 8 * T, frame.y(v) + 4 * T, msg.integer(v), "tick-label", "end"))
    step = max(1, math.ceil(YEAR_LABEL_SPACING / (frame.plot_width * 365.25 / frame.span)))
    parts += [_text(frame.x(d), frame.bottom + 18 * T, str(d.year), "tick-label") for d in years[::step]]
    middle = (frame.top + frame.bottom) // 2
    turn = f' transform="rotate(-90 {AXIS_LABEL_X} {_n(middle)})"'
    parts.append(_text(AXIS_LABEL_X * T, middle, msg("chart.axis.index"), "axis-label", attributes=turn))
    parts.append(_text((frame.left + frame.right) // 2, frame.bottom + 36 * T, msg("chart.axis.time"), "axis-label"))
    parts.append("</g>")
    return parts


_HISTORY_LOOK: Final = f' fill="none" stroke="{HISTORY_STROKE}" stroke-width="2" stroke-linejoin="round"'
_PATH_LOOK: Final = f' fill="none" stroke="{PATH_STROKE}" stroke-width="2" stroke-dasharray="{PATH_DASH}"'


def _legend(entries: Sequence[tuple[str, str]]) -> list[str]:
    """Entries one after another along the top, each a sample and its words; their widths estimated."""
    if not entries:
        return []
    parts = [f'<g class="legend" fill="{TEXT_FILL}" font-size="{FONT_SIZE}">']
    x, y = LEFT * T, 16 * T
    for kind, label in entries:
        if kind == "history":
            parts.append(_line(x, y, x + LEGEND_SAMPLE * T, y, ' class="series-history"' + _HISTORY_LOOK))
        elif kind == "path":
            parts.append(_line(x, y, x + LEGEND_SAMPLE * T, y, ' class="series-path"' + _PATH_LOOK))
        else:
            parts.append(_diamond(x + LEGEND_SAMPLE * T // 2, y))
        parts.append(_text(x + (LEGEND_SAMPLE + 6) * T, y + 4 * T, label, "legend-label", "start"))
        x += (LEGEND_SAMPLE + 6 + LEGEND_CHAR * len(label) + 18) * T
    parts.append("</g>")
    return parts


def _diamond(cx: int, cy: int, title: str | None = None) -> str:
    d = DIAMOND * T
    points = f"{_n(cx)},{_n(cy - d)} {_n(cx + d)},{_n(cy)} {_n(cx)},{_n(cy + d)} {_n(cx - d)},{_n(cy)}"
    inner = "" if title is None else f"<title>{escape(title)}</title>"
    look = f'fill="{MILESTONE_FILL}" stroke="#ffffff" stroke-width="1"'
    return f'<polygon class="milestone" points="{points}" {look}>{inner}</polygon>'


def history_chart(card: RegionCard, msg: Messages, *, width: int = 720, height: int = 300) -> Markup:
    """The region's history (solid line) and masterplan path (dashed) with the plan's milestones, as one
    ``<svg>`` element named by its ``<title>`` and described in words by its ``<desc>``; its ids start
    with the region's code (dots as dashes), so charts of several regions can share a page."""
    frame = _Frame(card.start, card.end, width, height)
    history, path, marks = _in_range(card)
    title_id, desc_id = chart_ids(card)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="history-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{escape(title_id)}" '
        f'aria-describedby="{escape(desc_id)}">',
        f'<title id="{escape(title_id)}">{escape(chart_title(card, msg))}</title>',
        f'<desc id="{escape(desc_id)}">{escape(chart_description(card, msg))}</desc>',
        *_axes(frame, msg),
    ]
    legend = [("history", msg("chart.legend.history"))] if history else []
    if path:
        legend.append(("path", msg("chart.legend.path")))
    if marks:
        legend.append(("milestone", msg("chart.legend.milestone")))
    parts += _legend(legend)
    if path:
        parts.append(f'<polyline class="series-path" points="{frame.points(path)}"{_PATH_LOOK}/>')
    if history:
        parts.append(f'<polyline class="series-history" points="{frame.points(history)}"{_HISTORY_LOOK}/>')
    else:
        middle = (frame.top + frame.bottom) // 2
        look = f' fill="{TEXT_FILL}" font-size="{FONT_SIZE}"'
        parts.append(_text((frame.left + frame.right) // 2, middle, msg("no_data"), "chart-note", attributes=look))
    for mark in marks:
        x, title = frame.x(mark.due), milestone_title(mark, msg)
        if mark.index is None:
            look = f' class="milestone milestone-tick" stroke="{MILESTONE_FILL}" stroke-width="3"'
            parts.append(
                _line(x, frame.bottom, x, frame.bottom - MILESTONE_TICK * T, look, f"<title>{escape(title)}</title>")
            )
        else:
            parts.append(_diamond(x, frame.y(mark.index), title))
    if history:
        last = history[-1]
        x, y = frame.x(last.x), frame.y(last.y)
        parts.append(f'<circle class="last-point" cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{HISTORY_STROKE}" '
                     f'stroke="#ffffff" stroke-width="1.5"/>')  # fmt: skip
        look = f' fill="{HISTORY_STROKE}" font-size="{FONT_SIZE}" font-weight="bold"'
        parts.append(_text(x + 7 * T, y - 7 * T, msg.number(last.y), "last-value", "start", look))
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_rows(card: RegionCard, msg: Messages) -> list[tuple[str, str, str]]:
    """The chart's figures as table rows (period's last day, index, path), one per period with a history
    point or a path value, by day. A period without an index says so in words; one without a path value
    has an empty path cell."""
    index = {p.x: p.y for p in card.history}
    path = {p.x: p.y for p in card.path}
    return [
        (msg.day(day), msg("no_data") if day not in index else msg.number(index[day]),
         "" if day not in path else msg.number(path[day]))
        for day in sorted(index.keys() | path.keys())
    ]  # fmt: skip
