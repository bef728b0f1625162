"""A small PNG of a target's recent scores against its masterplan path, for the email.

The x axis fits the recent history (:func:`window`): a milestone the alert is about is taken in when
the history still fills a good part of the width; a later one too far away gets a narrow panel of
its own on the right (the path from the end of the history to the milestone), so that recent scores
never collapse into a vertical stick. The path is drawn over the same window, interpolated between
its milestones as the alerts service does.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter

from services.alerts.notify import messages as m

Points = Sequence[tuple[datetime, float]]
#: The recent history keeps at least this share of the main panel's width.
FIT = 0.25
#: Room either side of the data: this share of the span, at least MIN_PAD.
PAD = 0.05
MIN_PAD = timedelta(minutes=1)

HISTORY, PATH, MILESTONE, REFERENCE = "#b91c1c", "#6b7280", "#1d4ed8", "#d97706"


@dataclass(frozen=True)
class Mark:
    """A milestone on the chart: its date (as a time), its target and how it is labelled."""

    at: datetime
    value: float
    label: str


@dataclass(frozen=True)
class Reference:
    """A level the alert compares with that is not on the path (the 7-day peak, a passed target)."""

    value: float
    label: str


@dataclass(frozen=True)
class Window:
    """The main panel's x range; ``ahead`` is the end of the narrow panel to a far milestone, if any."""

    start: datetime
    end: datetime
    ahead: datetime | None = None


def _pad(span: timedelta) -> timedelta:
    return max(span * PAD, MIN_PAD)


def window(times: Sequence[datetime], milestone: datetime | None = None, *, fit: float = FIT) -> Window:
    """The x range for history at ``times`` and the milestone the alert is about.

    The milestone is inside the range when the history still spans ``fit`` of it; a later one
    that is too far gets the narrow panel; an earlier one that is too far is left out (the chart
    shows its target as a reference line instead).
    """
    first, last = min(times), max(times)
    span = last - first
    if milestone is None or first <= milestone <= last:
        return Window(first - _pad(span), last + _pad(span))
    lo, hi = min(first, milestone), max(last, milestone)
    if span >= fit * (hi - lo):
        return Window(lo - _pad(hi - lo), hi + _pad(hi - lo))
    main = Window(first - _pad(span), last + _pad(span))
    if milestone < first:
        return main
    return Window(main.start, main.end, ahead=milestone + _pad(milestone - main.end))


def value_at(path: Points, at: datetime) -> float | None:
    """The path's value at ``at``: linear between milestones, None before the first, the last after it."""
    points = sorted(path)
    if not points or at < points[0][0]:
        return None
    for (t0, v0), (t1, v1) in pairwise(points):
        if t0 <= at <= t1:
            return v0 + (v1 - v0) * ((at - t0) / (t1 - t0)) if t1 > t0 else v1
    return points[-1][1]


def path_segment(path: Points, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The path between ``start`` and ``end``: its value at both ends and at every milestone between."""
    points = sorted(path)
    if not points or end < points[0][0]:
        return []
    times = [max(start, points[0][0]), *(t for t, _ in points if start < t < end), end]
    out = []
    for t in sorted(set(times)):
        v = value_at(points, t)
        if v is not None:
            out.append((t, v))
    return out


def _formatter(lang: Literal["id", "en"], tz: tzinfo, span: timedelta | None) -> FuncFormatter:
    """Tick labels in the reader's language and the region's zone: a time of day where the tick has
    one, else the day (``27 Nov``) or, over long spans, the month (``Des 2026``); ``span`` None: the full
    date (``31 Des 2026``)."""
    months = [name[:3] for name in m.MONTHS[lang]]  # Jan ... Mei ... Agu ... Okt ... Des
    sep = "." if lang == "id" else ":"

    def label(x: float, pos: int | None = None) -> str:
        t = num2date(x, tz)  # type: ignore[no-untyped-call]
        month = months[t.month - 1]
        if span is None:
            return f"{t.day} {month} {t.year}"
        if t.hour or t.minute:
            return f"{t.hour:02d}{sep}{t.minute:02d}"
        return f"{month} {t.year}" if span > timedelta(days=180) else f"{t.day} {month}"

    return FuncFormatter(label)


def draw(
    history: Points,
    path: Points,
    *,
    milestone: Mark | None = None,
    reference: Reference | None = None,
    lang: Literal["id", "en"] = "en",
    tz: tzinfo = UTC,
    history_label: str = "score",
    path_label: str = "masterplan path",
    width_px: int = 600,
    height_px: int = 240,
) -> Figure | None:
    """The chart as a matplotlib Figure (its first axes is the main panel), or None without history."""
    if not history:
        return None
    points = sorted(history)
    w = window([t for t, _ in points], milestone.at if milestone else None)
    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    if w.ahead is None:
        ax = fig.add_subplot()
        ahead = None
    else:
        ax, ahead = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 1]})
        fig.get_layout_engine().set(wspace=0.02)  # type: ignore[union-attr, call-arg]
    segment = path_segment(path, w.start, w.end)
    if segment:
        xs, ys = zip(*segment, strict=True)
        ax.plot(xs, ys, linestyle="--", color=PATH, linewidth=1.5, label=path_label)
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=HISTORY, linewidth=2, marker="o", markersize=3, label=history_label)
    if reference is not None:
        ax.axhline(reference.value, color=REFERENCE, linewidth=1, linestyle=":", label=reference.label)
    if milestone is not None and w.start <= milestone.at <= w.end:
        at = date2num(milestone.at)  # type: ignore[no-untyped-call]
        ax.plot([at], [milestone.value], marker="D", color=MILESTONE, linestyle="none", label=milestone.label)
        ax.axvline(at, color=MILESTONE, linewidth=1, linestyle=":")
    _axis(ax, w.start, w.end, lang, tz)
    ax.set_xlabel(tz.tzname(None) or "UTC", fontsize=8)
    if ahead is not None and milestone is not None and w.ahead is not None:
        rest = path_segment(path, w.end, w.ahead)
        if rest:
            xs, ys = zip(*rest, strict=True)
            ahead.plot(xs, ys, linestyle="--", color=PATH, linewidth=1.5)
        at = date2num(milestone.at)  # type: ignore[no-untyped-call]
        ahead.plot([at], [milestone.value], marker="D", color=MILESTONE, linestyle="none")
        ax.plot([], [], marker="D", color=MILESTONE, linestyle="none", label=milestone.label)  # in the main legend
        _axis(ahead, w.end, w.ahead, lang, tz)
        ahead.xaxis.set_major_locator(FixedLocator([at]))
        ahead.xaxis.set_major_formatter(_formatter(lang, tz, None))
        _break(ax, ahead)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return fig


def _axis(ax: Axes, start: datetime, end: datetime, lang: Literal["id", "en"], tz: tzinfo) -> None:
    ax.set_xlim(date2num(start), date2num(end))  # type: ignore[no-untyped-call]
    ax.set_ylim(0, 5)
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.xaxis.set_major_locator(AutoDateLocator(tz=tz, minticks=3, maxticks=7))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(_formatter(lang, tz, end - start))
    ax.tick_params(labelsize=8)


def _break(left: Axes, right: Axes) -> None:
    """The marks of a broken x axis between the two panels."""
    left.spines["right"].set_visible(False)
    right.spines["left"].set_visible(False)
    right.tick_params(left=False)
    marks = {"marker": [(-1, -2), (1, 2)], "markersize": 8, "linestyle": "none", "color": "k", "clip_on": False}
    left.plot([1, 1], [0, 1], transform=left.transAxes, **marks)  # type: ignore[arg-type]
    right.plot([0, 0], [0, 1], transform=right.transAxes, **marks)  # type: ignore[arg-type]


def png(fig: Figure | None) -> bytes | None:
    """The PNG bytes of a :func:`draw` result (None stays None)."""
    if fig is None:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()
