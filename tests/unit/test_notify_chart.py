"""The email chart's window and path, worked out by hand: recent scores never collapse into a stick."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from matplotlib.dates import date2num

from schemas.regions import default_registry
from services.alerts.notify.chart import FIT, Mark, Window, _formatter, draw, path_segment, value_at, window
from services.alerts.notify.messages import WIB
from services.alerts.notify.render import Wording
from tests.notify_support import NATIONAL_PATH, a_notification, an_alert_event

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def test_the_window_fits_the_history_with_a_little_room() -> None:
    # 10 h of history: 5% of it (30 min) either side.
    assert window([T0, T0 + 10 * H]) == Window(T0 - 30 * timedelta(minutes=1), T0 + 10.5 * H)
    # A single point still gets a window (at least a minute either side), not a zero-width axis.
    assert window([T0]) == Window(T0 - timedelta(minutes=1), T0 + timedelta(minutes=1))


def test_a_milestone_near_enough_is_taken_in() -> None:
    # 30 days of history, milestone 10 days after: the history still spans 30/40 >= 25% of the range.
    got = window([T0, T0 + 30 * D], T0 + 40 * D)
    assert got == Window(T0 - 2 * D, T0 + 42 * D)  # 5% of 40 days either side
    assert got.ahead is None


def test_a_far_milestone_gets_a_panel_of_its_own() -> None:
    # 10 h of history, the milestone 30 days on: it would squash the history to 1.4% of the width.
    got = window([T0, T0 + 10 * H], T0 + 30 * D)
    assert (got.start, got.end) == (T0 - 0.5 * H, T0 + 10.5 * H)
    # The panel runs on to the milestone plus 5% of (720 h - 10.5 h) = 35.475 h.
    assert got.ahead == T0 + 30 * D + timedelta(hours=35, minutes=28, seconds=30)


def test_a_far_milestone_in_the_past_is_left_out() -> None:
    # milestone_missed: the passed milestone a year back; the chart shows its target as a line instead.
    assert window([T0, T0 + 10 * H], T0 - 330 * D) == Window(T0 - 0.5 * H, T0 + 10.5 * H)


def test_the_path_between_its_milestones() -> None:
    path = [(T0, 2.0), (T0 + 100 * D, 3.0)]
    assert value_at(path, T0 - D) is None  # the path starts at its first milestone
    assert value_at(path, T0 + 25 * D) == 2.25
    assert value_at(path, T0 + 200 * D) == 3.0  # flat after the last, as the alerts service reads it
    assert path_segment(path, T0 + 25 * D, T0 + 150 * D) == [(T0 + 25 * D, 2.25), (T0 + 100 * D, 3.0),
                                                           (T0 + 150 * D, 3.0)]  # fmt: skip
    assert path_segment(path, T0 - 10 * D, T0 + 10 * D) == [(T0, 2.0), (T0 + 10 * D, 2.1)]
    assert path_segment(path, T0 - 10 * D, T0 - D) == []


def test_minutes_of_history_and_a_milestone_a_month_away() -> None:
    # The demo: 60 scores 10 s apart (10 minutes), the next milestone on 31 December 2026.
    history = [(T0 + i * timedelta(seconds=10), 2.2 + 0.001 * i) for i in range(60)]
    due = datetime(2026, 12, 31, tzinfo=UTC)
    fig = draw(history, NATIONAL_PATH, milestone=Mark(due, 2.6, "tonggak"), lang="id", tz=WIB)
    assert fig is not None
    main, ahead = fig.axes
    lo, hi = main.get_xlim()
    first, last = date2num(history[0][0]), date2num(history[-1][0])
    assert (last - first) / (hi - lo) >= FIT  # 590 s of 710 s: the history fills the panel
    assert ahead.get_xlim()[0] == hi and ahead.get_xlim()[1] > date2num(due)
    # The path drawn over the main window is today's stretch of it: 2.3 + 0.3 x 331/365 = 2.572.
    path_line = main.get_lines()[0]
    assert round(float(path_line.get_ydata()[0]), 3) == 2.572


def test_the_email_chart_of_each_kind() -> None:
    wording = Wording(default_registry(), drop_window=timedelta(days=7))
    history = [(datetime(2026, 11, 26, tzinfo=UTC) + i * H, 2.5) for i in range(24)]
    for kind, due in [("behind_trajectory", date(2026, 12, 31)), ("milestone_missed", date(2025, 12, 31)),
                      ("at_risk", date(2026, 12, 31)), ("data_stale", None), ("score_drop", None)]:  # fmt: skip
        alert = an_alert_event(kind=kind, milestone_due=due, current=0.3 if kind == "data_stale" else 2.4)
        png = wording.chart(a_notification(alert=alert, history=history, path=NATIONAL_PATH), "id")
        assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n"), kind


def test_tick_labels_in_the_readers_language_and_zone() -> None:
    day = _formatter("id", WIB, timedelta(days=3))
    assert day(date2num(datetime(2026, 12, 2, tzinfo=WIB))) == "2 Des"
    assert day(date2num(datetime(2026, 8, 2, 12, 0, tzinfo=WIB))) == "12.00"
    assert _formatter("en", WIB, timedelta(days=3))(date2num(datetime(2026, 8, 2, 12, 0, tzinfo=WIB))) == "12:00"
    assert _formatter("id", WIB, timedelta(days=400))(date2num(datetime(2026, 5, 1, tzinfo=WIB))) == "Mei 2026"
    # 17:00 UTC on 30 December is midnight of the 31st in WIB.
    assert _formatter("id", WIB, None)(date2num(datetime(2026, 12, 30, 17, tzinfo=UTC))) == "31 Des 2026"


def test_nothing_to_draw_without_history() -> None:
    assert draw([], NATIONAL_PATH) is None
