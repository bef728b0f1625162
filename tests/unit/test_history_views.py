"""The history API's views worked out by hand: calendar periods, a monthly series against a plan's path,
competition ranks, the plan in force on a day, and the programme's counts (services/history/domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.masterplan import expected_on
from services.history.domain.periods import Resolution, count, periods
from services.history.domain.views import (
    Aggregate,
    Closing,
    PlanBook,
    PlanPath,
    competition_ranks,
    daily,
    progress,
    ranking,
    series,
)
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


def test_a_monthly_series_reads_the_path_on_each_months_last_day() -> None:
    """The months' figures come from SQL (the integration test checks them); here each month with an aggregate
    keeps it, a month without is listed empty, and the path is read on the month's last day in the query."""
    jan = Aggregate(closing("32.73", date(2025, 1, 31), 2.4, simulated=True), 2, 1, 2.2, 2.0, 2.4)
    apr = Aggregate(closing("32.73", date(2025, 4, 2), 2.05), 1, 0, 2.05, 2.05, 2.05)
    aggregates = {date(2025, 1, 1): jan, date(2025, 4, 1): apr}
    book = PlanBook([("32.73", datetime(2024, 6, 1, tzinfo=UTC), plan(d2024_12_31=2.0, d2025_12_31=2.3))])
    points = series(aggregates, periods(date(2025, 1, 1), date(2025, 4, 20), Resolution.MONTH), book, "32.73")
    first, feb, _mar, last = points
    assert first.closing is not None and first.closing.index == 2.4 and (first.days, first.simulated_days) == (2, 1)
    # The path rises 0.3 over 365 days: on 31 Jan (day 31 after the baseline) 2.0 + 0.3 * 31 / 365.
    assert first.expected["index"] == pytest.approx(2.0 + 0.3 * 31 / 365, abs=1e-6)
    assert first.gap == pytest.approx(2.0 + 0.3 * 31 / 365 - 2.4, abs=1e-6)  # (views round to 6 places)
    assert feb.closing is None and feb.days == 0 and feb.gap is None
    assert feb.expected["index"] == pytest.approx(2.0 + 0.3 * 59 / 365, abs=1e-6)
    # April ends on the 20th in this query: the path is read there (day 110).
    assert last.period.until == date(2025, 4, 20)
    assert last.gap == pytest.approx(2.0 + 0.3 * 110 / 365 - 2.05, abs=1e-6) and last.gap > 0  # behind


def test_a_daily_series_is_each_day_as_its_own_period() -> None:
    days = [closing("32.73", date(2025, 1, 1), 2.0), closing("32.73", date(2025, 1, 3), 2.2, simulated=True)]
    points = series(daily(days), periods(date(2025, 1, 1), date(2025, 1, 3), Resolution.DAY), PlanBook(), "32.73")
    assert [(p.period.label, p.closing.index if p.closing else None, p.days, p.simulated_days) for p in points] == [
        ("2025-01-01", 2.0, 1, 0), ("2025-01-02", None, 0, 0), ("2025-01-03", 2.2, 1, 1)]  # fmt: skip
    assert all(p.expected == {} and p.plan_id is None for p in points)  # no plan known


def test_a_plans_path_is_the_masterplans_own_on_every_day() -> None:
    """PlanPath (bisection over points sorted once) against schemas.masterplan.expected_on, 2024 to 2030."""
    national = a_masterplan(milestones=[
        {"due": "2024-12-31", "targets": {"index": 2.0, "economy": 2.0}},
        {"due": "2026-06-30", "targets": {"index": 2.5}},
        {"due": "2029-12-31", "targets": {"index": 3.5, "economy": 3.8}},
    ])  # fmt: skip
    path = PlanPath(national)
    day = date(2024, 1, 1)
    while day <= date(2030, 12, 31):
        for target in ("index", "economy", "living"):
            assert path.value(target, day) == expected_on(national, target, day), (target, day)
        day += timedelta(days=1)
    assert path.on(date(2024, 6, 1)) == {}  # before the first milestone
    assert path.on(date(2030, 1, 1)) == {"index": 3.5, "economy": 3.8}


def plan_on(book: PlanBook, region: str, day: date) -> object:
    path = book.path_on(region, day)
    return path.plan if path else None


def test_the_plan_in_force_is_the_latest_seen_by_that_day_else_the_earliest() -> None:
    old, new = plan(d2024_12_31=2.0), plan(d2024_12_31=3.0)
    book = PlanBook([("32.73", datetime(2025, 3, 1, 12, tzinfo=UTC), new),
                     ("32.73", datetime(2025, 1, 1, tzinfo=UTC), old)])  # fmt: skip
    assert plan_on(book, "32.73", date(2024, 6, 1)) is old  # before any: the earliest
    assert plan_on(book, "32.73", date(2025, 2, 28)) is old
    assert plan_on(book, "32.73", date(2025, 3, 1)) is new
    assert book.path_on("11.01", date(2025, 3, 1)) is None


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


def test_plan_versions_committed_apart_with_one_timestamp_are_all_read() -> None:
    """Plans loaded together share their Kafka timestamp; the writer may commit them in two transactions.
    A refresh between the two must still pick up the second (and not add the first twice)."""
    from schemas.regions import default_registry
    from services.history.domain.views import PlanVersion
    from services.history.service.queries import HistoryQueries

    seen = datetime(2026, 1, 5, 3, tzinfo=UTC)
    bandung = a_masterplan()
    kab_bandung = a_masterplan(region_code="32.04", plan_id="kab-bandung")
    stored = [PlanVersion("32.73", "h1", seen, bandung.model_dump(mode="json"))]

    class Reads:
        def plans(self, since: datetime | None = None) -> list[PlanVersion]:
            return [v for v in stored if since is None or v.received_at >= since]

    queries = HistoryQueries(Reads(), default_registry(), "pp59@2022.1", [1, 2, 3, 4, 5], plans_ttl=0.0)  # type: ignore[arg-type]
    first = queries.plans()
    assert plan_on(first, "32.73", date(2026, 2, 1)) == bandung and plan_on(first, "32.04", date(2026, 2, 1)) is None
    stored.append(PlanVersion("32.04", "h2", seen, kab_bandung.model_dump(mode="json")))  # committed later
    book = queries.plans()
    assert plan_on(book, "32.04", date(2026, 2, 1)) == kab_bandung
    assert len(book._plans["32.73"]) == 1  # the first version is not added again
