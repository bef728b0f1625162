"""A small PNG of a target's recent scores against its masterplan path, for the email."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, time

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

Points = Sequence[tuple[datetime, float]]


def score_chart(
    history: Points,
    path: Points,
    *,
    due: date | None = None,
    history_label: str = "score",
    path_label: str = "masterplan path",
    width_px: int = 600,
    height_px: int = 240,
) -> bytes | None:
    """PNG bytes, or None when there is nothing to draw. The y axis is the programme's 0-5 scale."""
    if not history and not path:
        return None
    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if path:
        xs, ys = zip(*sorted(path), strict=True)
        ax.plot(xs, ys, linestyle="--", color="#6b7280", linewidth=1.5, label=path_label)
    if history:
        xs, ys = zip(*sorted(history), strict=True)
        ax.plot(xs, ys, color="#b91c1c", linewidth=2, marker="o", markersize=3, label=history_label)
    if due is not None:
        # Marked only when the data reach it: a milestone years away would squash the lines.
        times = [t for t, _ in (*history, *path)]
        when = datetime.combine(due, time(), times[0].tzinfo)
        if min(times) <= when <= max(times):
            ax.axvline(date2num(when), color="#1d4ed8", linewidth=1, linestyle=":")  # type: ignore[no-untyped-call]
    ax.set_ylim(0, 5)
    ax.grid(True, linewidth=0.4, alpha=0.5)
    locator = AutoDateLocator(maxticks=6)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.tick_params(labelsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
