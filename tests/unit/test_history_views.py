"""The history API's views worked out by hand: calendar periods, a monthly series against a plan's path,
competition ranks, the plan in force on a day, and the programme's counts (services/history/domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.history.domain.periods import Resolution, count, periods
from services.history.domain.views import Closing, PlanBook, competition_ranks, progress, ranking, series
from tests.history_support import a_masterplan


def closing(region: str, day: date, index: float | None, level: int | None = None, simulated: bool = False) -> Closing:
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return Closing(region, day, at, index, level, None, 1.0, "ok", {"governance": index}, simulated)


def plan(**milestones: float) -> object:
    """A plan with index targets due on the given days (``d2024_12_31=2.0``)."""
    ms = [{"due": k[1:].replace("_", "-"), "targets": {"index": v}} for k, v in milestones.items()]
    return a_masterplan(milestones=ms)


def test_periods_are_calendar_periods_clipped_to_the_query() -> None:
    months = list(periods(date(2025, 1, 15), date(2025, 3, 2), Resolution.MONTH))
    assert [(p.label, p.first, p.last, p.since, p.until) for p in months] == [
        ("2025-01", date(2025, 1, 1), date(2025, 1, 31), date(2025, 1, 15), date(2025, 1, 31)),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28), date(2025, 2, 1), date(2025, 2, 28)),
        ("2025-03", date(2025, 3, 1), date(2025, 3, 31), date(2025, 3, 1), date(2025, 3, 2)),
    ]
    # 2024-12-30 is the Monday of ISO week 2025-W01; 2025-01-06 starts W02.
    weeks = list(periods(date(2025, 1, 1), date(2025, 1, 6), Resolution.WEEK))
    assert [(p.label, p.first, p.until) for p in weeks] == [
        ("2025-W01", date(2024, 12, 30), date(2025, 1, 5)),
        ("2025-W02", date(2025, 1, 6), date(2025, 1, 6)),
    ]
    years = list(periods(date(2024, 2, 29), date(2025, 1, 1), Resolution.YEAR))
    assert [(p.label, p.since, p.until) for p in years] == [
        ("2024", date(2024, 2, 29), date(2024, 12, 31)),
        ("2025", date(2025, 1, 1), date(2025, 1, 1)),
    ]
    assert [p.label for p in periods(date(2024, 2, 28), date(2024, 3, 1), Resolution.DAY)] == [
        "2024-02-28", "2024-02-29", "2024-03-01",
    ]  # fmt: skip
    for res, n in ((Resolution.DAY, 3), (Resolution.WEEK, 1), (Resolution.MONTH, 2), (Resolution.YEAR, 1)):
        assert count(date(2024, 2, 28), date(2024, 3, 1), res) == n
    with pytest.raises(ValueError, match="before"):
        list(periods(date(2025, 2, 1), date(2025, 1, 1), Resolution.DAY))


def test_a_monthly_series_takes_each_months_closing_day_and_the_path_on_its_last_day() -> None:
    days = [closing("32.73", date(2025, 1, 10), 2.0), closing("32.73", date(2025, 1, 31), 2.4, simulated=True),
            closing("32.73", date(2025, 2, 15), 2.6), closing("32.73", date(2025, 4, 2), 2.05)]  # fmt: skip
    book = PlanBook([("32.73", datetime(2024, 6, 1, tzinfo=UTC), plan(d2024_12_31=2.0, d2025_12_31=2.3))])
    points = series(days, periods(date(2025, 1, 1), date(2025, 4, 30), Resolution.MONTH), book, "32.73")
    # The path rises 0.3 over 365 days: on 31 Jan (day 31 after the baseline) 2.0 + 0.3 * 31 / 365.
    jan, feb, mar, apr = points
    assert jan.closing is not None and jan.closing.index == 2.4 and jan.days == 2 and jan.simulated_days == 1
    assert (jan.index_mean, jan.index_min, jan.index_max) == (2.2, 2.0, 2.4)
    assert jan.expected["index"] == pytest.approx(2.0 + 0.3 * 31 / 365)
    assert jan.gap == pytest.approx(2.0 + 0.3 * 31 / 365 - 2.4, abs=1e-6)  # (views round to 6 places)
    assert feb.closing is not None and feb.closing.index == 2.6
    assert feb.expected["index"] == pytest.approx(2.0 + 0.3 * 59 / 365)
    assert mar.closing is None and mar.days == 0 and mar.gap is None
    assert mar.expected["index"] == pytest.approx(2.0 + 0.3 * 90 / 365)
    assert apr.closing is not None and apr.closing.day == date(2025, 4, 2)
    assert apr.gap == pytest.approx(2.0 + 0.3 * 120 / 365 - 2.05, abs=1e-6)  # behind: above 0
    assert apr.gap > 0


def test_the_plan_in_force_is_the_latest_seen_by_that_day_else_the_earliest() -> None:
    old, new = plan(d2024_12_31=2.0), plan(d2024_12_31=3.0)
    book = PlanBook([("32.73", datetime(2025, 3, 1, 12, tzinfo=UTC), new),
                     ("32.73", datetime(2025, 1, 1, tzinfo=UTC), old)])  # fmt: skip
    assert book.plan_on("32.73", date(2024, 6, 1)) is old  # before any: the earliest
    assert book.plan_on("32.73", date(2025, 2, 28)) is old
    assert book.plan_on("32.73", date(2025, 3, 1)) is new
    assert book.plan_on("11.01", date(2025, 3, 1)) is None


def test_competition_ranks_share_a_rank_and_skip_the_next() -> None:
    assert competition_ranks([2.0, 3.5, None, 3.5, 1.0]) == [3, 1, None, 1, 4]


def test_a_ranking_ranks_within_the_filter_and_nationally() -> None:
    on = date(2025, 2, 20)
    rows = [closing("32.73", date(2025, 2, 15), 2.6), closing("32.04", on, 2.6),
            closing("91.03", date(2025, 1, 5), 3.1), closing("11.01", on, None)]  # fmt: skip
    book = PlanBook([("32.73", datetime(2024, 6, 1, tzinfo=UTC), plan(d2024_12_31=2.0, d2025_12_31=2.3))])
    ranked = ranking(rows, on, book, keep={"32.73", "32.04"})
    assert [(r.closing.region_code, r.rank, r.national_rank) for r in ranked] == [("32.04", 1, 2), ("32.73", 1, 2)]
    bandung = ranked[1]
    assert bandung.expected_index == pytest.approx(2.0 + 0.3 * 51 / 365)  # 20 Feb: day 51 after the baseline
    assert bandung.behind_plan is False and ranked[0].behind_plan is None  # no plan for 32.04
    everyone = ranking(rows, on, book)
    assert [(r.closing.region_code, r.rank) for r in everyone] == [("91.03", 1), ("32.04", 2), ("32.73", 2),
                                                                   ("11.01", None)]  # fmt: skip


def test_progress_counts_levels_and_regions_behind_their_path() -> None:
    (month,) = periods(date(2025, 2, 1), date(2025, 2, 28), Resolution.MONTH)
    # Path on 28 Feb: 2.0 + 0.3 * 59 / 365 = 2.0485
    book = PlanBook([(code, datetime(2024, 6, 1, tzinfo=UTC), plan(d2024_12_31=2.0, d2025_12_31=2.3))
                     for code in ("32.73", "32.04", "91.03")])  # fmt: skip
    rows = [closing("32.73", date(2025, 2, 15), 2.6, 3), closing("32.04", date(2025, 2, 28), 2.04, 3),
            closing("91.03", date(2025, 1, 5), 1.5, 2, simulated=True),
            closing("11.01", date(2025, 2, 3), None)]  # fmt: skip
    p = progress(month, rows, book, [1, 2, 3, 4, 5])
    assert p.regions_scored == 4
    assert p.levels == {1: 0, 2: 1, 3: 2, 4: 0, 5: 0}
    assert (p.behind_plan, p.on_or_above_plan, p.without_plan) == (2, 1, 1)  # 32.04 (2.04) and 91.03 behind
    assert p.mean_index == pytest.approx((2.6 + 2.04 + 1.5) / 3)
    assert (p.simulated, p.stale) == (1, 1)  # 91.03: simulated, and last scored in January
