"""The demo's seeded past (pantau/seed_history.py) without a database: trajectories, feeds, the readings of
each day and what the real scorer makes of them, worked by hand (the BPS figures are copied from
schemas/data/indicator_observations_bps.csv)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau import seed_history as sh
from pantau.simulate import bps_baselines, bps_observations, region_quality
from schemas.framework import Framework, load_framework
from schemas.regions import default_registry
from schemas.scores import RegionScore
from services.history.domain import Downsampling, Source, snapshot_rows
from tests.history_support import a_region_score

FW: Framework = load_framework()
BPS = bps_observations()
HOUR_US = 3_600_000_000
#: Kota Bandung (WIB, +7): IPM 83.04 in 2023, 83.52 in 2024; P0 3.87 in 2024 (the only P0 year).
BANDUNG = "32.73"
#: Kabupaten Jayawijaya (Papua Pegunungan, WIT, +9): IPM 48.18 in 2023, 49.36 in 2024; P0 28.95 in 2024.
JAYAWIJAYA = "95.02"
DENPASAR = "51.71"  # WITA, +8


def past(region: str, first: date, last: date, seed: int = 7) -> sh.RegionPast:
    return sh.region_past(region, first, last, seed, BPS)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def micros(t: datetime) -> int:
    return (t - utc(1970, 1, 1)) // timedelta(microseconds=1)


# -- trajectories ------------------------------------------------------------------------------------


def test_a_trajectory_rises_from_its_deficit_below_the_quality_to_the_quality() -> None:
    t = sh.Trajectory(quality=0.7, deficit=0.3, shape=2.0)
    assert t.on(0.0) == pytest.approx(0.4)
    assert t.on(0.5) == pytest.approx(0.7 - 0.3 * (1 - 0.25))  # 0.475: a shape of 2 rises late
    assert t.on(1.0) == pytest.approx(0.7)
    assert t.on(-1.0) == pytest.approx(0.4)  # before the first day: the start
    assert t.on(3.0) == pytest.approx(0.7)  # after the last day: the live quality
    early = sh.Trajectory(quality=0.7, deficit=0.3, shape=0.5)
    assert early.on(0.25) == pytest.approx(0.7 - 0.3 * 0.5)  # sqrt(0.25) = 0.5 of the way at a quarter


def test_a_region_s_trajectory_ends_at_the_live_simulator_s_quality_and_is_fixed_by_the_seed() -> None:
    t = sh.trajectory(BANDUNG, 7)
    assert t.quality == region_quality(BANDUNG, 7)
    assert sh.trajectory(BANDUNG, 7) == t
    assert sh.trajectory(BANDUNG, 8) != t
    assert sh.trajectory(JAYAWIJAYA, 7) != t
    for code in sorted(default_registry().regions)[::37]:
        r = sh.trajectory(code, 7)
        assert 0.2 <= r.deficit <= 0.5 and 0.5 <= r.shape <= 3.0
        assert 0.0 <= r.on(0.0) < r.on(1.0) <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(0, 10_000), st.sampled_from(["32.73", "95.02", "11.01"]))
def test_quality_never_falls_and_stays_between_the_start_and_the_live_quality(
    a: float, b: float, seed: int, region: str
) -> None:
    t = sh.trajectory(region, seed)
    lo, hi = min(a, b), max(a, b)
    assert t.quality - t.deficit - 1e-12 <= t.on(lo) <= t.on(hi) <= t.quality + 1e-12
    assert t.on(lo) >= 0.0


def test_the_quality_of_a_day_is_its_share_of_the_seeded_days() -> None:
    p = past(BANDUNG, date(2024, 1, 1), date(2024, 1, 11))
    assert p.quality_on(date(2024, 1, 6)) == pytest.approx(p.trajectory.on(0.5))
    assert p.quality_on(date(2024, 1, 1)) == pytest.approx(p.trajectory.quality - p.trajectory.deficit)
    assert p.quality_on(date(2024, 1, 11)) == pytest.approx(p.trajectory.quality)
    assert p.quality_on(date(2023, 12, 1)) == p.quality_on(date(2024, 1, 1))  # the warm-up: as the first day


# -- feeds and BPS figures ---------------------------------------------------------------------------


def test_live_indicators_are_read_as_often_as_their_window_needs() -> None:
    feed = {i.id: sh.Feed.of(i) for i in FW.indicators if i.aggregation.window is not None}
    twelve_hours = 12 * HOUR_US

    def cadence(ind: str) -> tuple[float, int, int, int]:
        f = feed[ind]
        return f.share, f.every, f.offset_us, f.period_us

    # A sum over 30 days: buckets of 30 h; every 120 h (5 days, four buckets), a sixth of the total each.
    assert cadence("ECO_NEW_BUSINESS_PERMITS") == (pytest.approx(1 / 6), 1, 0, 120 * HOUR_US)
    # A sum over a day: buckets of an hour; every 24 h, the whole total.
    assert cadence("LIV_TRANSIT_RIDERSHIP") == (1.0, 1, 0, 24 * HOUR_US)
    # Means and maxima over a week or a month: weekly, 12 hours before the close.
    assert cadence("GOV_SERVICE_UPTIME") == (1.0, 7, twelve_hours, 0)
    assert feed["GOV_OPEN_DATA_DATASETS"].every == 7 and feed["ENV_PJU_RENEWABLE_SHARE"].every == 7
    # A minimum over a day: daily; a mean over an hour: daily, half an hour before the close.
    assert cadence("BRD_STREETLIGHT_WORKING") == (1.0, 1, twelve_hours, 0)
    assert cadence("SOC_CCTV_UPTIME") == (1.0, 1, HOUR_US // 2, 0)
    assert sh.warm_up(FW) == 30  # the longest window: 30 days

    # Bandung, 23:59:59 WIB = 16:59:59 UTC. 2024-06-01 is day 19875 of the epoch, a multiple of 5: the
    # 30-day sums are read at its 00:00 UTC (07:00 WIB), and again on 6 June, not in between.
    def close(d: int) -> int:
        return micros(utc(2024, 6, d, 16, 59, 59))

    permits, ridership, uptime = (
        feed["ECO_NEW_BUSINESS_PERMITS"],
        feed["LIV_TRANSIT_RIDERSHIP"],
        feed["GOV_SERVICE_UPTIME"],
    )
    assert [permits.at(date(2024, 6, d), close(d)) for d in range(1, 7)] == [
        micros(utc(2024, 6, 1)), None, None, None, None, micros(utc(2024, 6, 6))]  # fmt: skip
    assert ridership.at(date(2024, 6, 2), close(2)) == micros(utc(2024, 6, 2))
    # 2 June 2024 is a Sunday: the weekly readings, at 11:59:59 WIB.
    assert uptime.at(date(2024, 6, 2), close(2)) == micros(utc(2024, 6, 2, 4, 59, 59))
    assert uptime.at(date(2024, 6, 3), close(3)) is None


def test_a_30_day_sum_always_holds_six_readings_and_adds_up_to_them() -> None:
    p = past(DENPASAR, date(2024, 2, 1), date(2024, 3, 31))
    readings = [r for _d, rs in sh.daily_readings(FW, p) for ind, r in rs if ind.id == "SOC_CITIZEN_REPORTS"]
    for day, score in sh.region_scores(FW, p):
        close = micros(score.evaluated_at)
        window = [r.value for r in readings if close - 30 * 24 * HOUR_US < r.ts <= close]
        assert len(window) == 6, day
        value = next(i.value for i in score.indicators if i.indicator_id == "SOC_CITIZEN_REPORTS")
        assert value == pytest.approx(sum(window)), day


def test_a_year_the_bps_file_lacks_takes_the_nearest_year_it_has() -> None:
    periods = {2020: 67.12, 2022: 67.87, 2024: 69.01}
    assert sh.bps_figure(periods, 2022) == 67.87
    assert sh.bps_figure(periods, 2019) == 67.12
    assert sh.bps_figure(periods, 2026) == 69.01
    assert sh.bps_figure(periods, 2021) == 67.87  # as near to 2020 as to 2022: the later one
    assert sh.bps_figure({2024: 3.87}, 2023) == 3.87


def test_every_bps_period_is_read() -> None:
    assert BPS[(BANDUNG, "IPM")] == {2020: 81.51, 2021: 81.96, 2022: 82.5, 2023: 83.04, 2024: 83.52}
    # The live simulator's baselines are still the latest period, dated at the end of its year.
    assert bps_baselines()[(BANDUNG, "IPM")] == (83.52, utc(2024, 12, 31))
    assert len(bps_baselines()) == len(BPS) == 2 * 514
    assert BPS[(BANDUNG, "P0")] == {2024: 3.87}
    assert past(BANDUNG, date(2024, 1, 1), date(2024, 2, 1)).bps == {
        "IPM": {2020: 81.51, 2021: 81.96, 2022: 82.5, 2023: 83.04, 2024: 83.52},
        "P0": {2024: 3.87},
    }


# -- the readings of a day ---------------------------------------------------------------------------


def statistic_readings(region: str, first: date, last: date) -> dict[date, dict[str, tuple[int, float]]]:
    out: dict[date, dict[str, tuple[int, float]]] = {}
    for day, readings in sh.daily_readings(FW, past(region, first, last)):
        stats = {ind.id: (r.ts, r.value) for ind, r in readings if ind.aggregation.window is None}
        if stats:
            out[day] = stats
    return out


def test_statistics_are_observed_at_the_end_of_their_year_and_bps_figures_are_the_real_ones() -> None:
    stats = statistic_readings(JAYAWIJAYA, date(2024, 12, 30), date(2025, 1, 2))
    # Only the warm-up's first day (the figures as of its year's start) and 1 January carry statistics.
    assert sorted(stats) == [date(2024, 11, 30), date(2025, 1, 1)]
    # 2023's figures, observed at the end of 2023: 2024-01-01 00:00 WIT is 2023-12-31 15:00 UTC.
    assert stats[date(2024, 11, 30)]["IPM"] == (micros(utc(2023, 12, 31, 15)), 48.18)
    assert stats[date(2024, 11, 30)]["P0"] == (micros(utc(2023, 12, 31, 15)), 28.95)  # no 2023 P0: 2024's
    # 2024's, observed at 2025-01-01 00:00 WIT.
    assert stats[date(2025, 1, 1)]["IPM"] == (micros(utc(2024, 12, 31, 15)), 49.36)
    assert stats[date(2025, 1, 1)]["P0"] == (micros(utc(2024, 12, 31, 15)), 28.95)
    statistics = {i.id for i in FW.indicators if i.aggregation.window is None}
    assert set(stats[date(2025, 1, 1)]) == statistics  # every statistic, once a year


def test_the_ipm_the_scorer_uses_changes_on_1_january_2025() -> None:
    """Kota Bandung: IPM 83.04 (2023) until 31 December 2024, 83.52 (2024) from 1 January 2025; min-max
    55-85 makes them (83.04 - 55) / 30 * 5 = 4.6733 and (83.52 - 55) / 30 * 5 = 4.7533."""
    days = {date(2024, 12, 31), date(2025, 1, 1)}
    scores = dict(sh.region_scores(FW, past(BANDUNG, date(2024, 12, 1), date(2025, 1, 31)), keep=days.__contains__))
    ipm = {day: next(i for i in s.indicators if i.indicator_id == "IPM") for day, s in scores.items()}
    before, after = ipm[date(2024, 12, 31)], ipm[date(2025, 1, 1)]
    assert (before.value, before.observed_at, before.fresh) == (83.04, utc(2023, 12, 31, 17), True)
    assert before.score == pytest.approx(28.04 / 6)
    assert (after.value, after.observed_at, after.fresh) == (83.52, utc(2024, 12, 31, 17), True)
    assert after.score == pytest.approx(28.52 / 6)


def test_live_readings_are_drawn_around_the_day_s_quality_halfway_before_the_close() -> None:
    p = past(BANDUNG, date(2024, 6, 1), date(2024, 6, 30))
    seen = 0
    for day, readings in sh.daily_readings(FW, p):
        q = p.quality_on(day)
        close = utc(day.year, day.month, day.day, 16, 59, 59)  # 23:59:59 WIB
        for ind, r in readings:
            if ind.id == "GOV_SERVICE_UPTIME":  # min-max 90-99.9, higher is better: 90 + q * 9.9
                assert day.weekday() == 6
                assert r.ts == micros(close - timedelta(hours=12))
                assert 90 + (q - 0.05) * 9.9 - 1e-3 <= r.value <= 90 + (q + 0.05) * 9.9 + 1e-3
                seen += 1
            if ind.id == "SOC_CCTV_UPTIME":
                assert r.ts == micros(close - timedelta(minutes=30))
            if ind.id == "ECO_NEW_BUSINESS_PERMITS":  # a 30-day sum drawn in 0.3-1.5: a sixth every 5 days
                assert 0.3 / 6 - 1e-4 <= r.value <= 1.5 / 6 + 1e-4
    # Weekly on Sundays over the 30 warm-up days and the 30 seeded ones (2024-05-02 to 06-30): 5 May to 30 June.
    assert seen == 9


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(sorted(default_registry().regions)))
def test_every_reading_is_inside_its_indicator_s_bounds(seed: int, region: str) -> None:
    for _day, readings in sh.daily_readings(FW, past(region, date(2024, 1, 1), date(2024, 12, 31), seed)):
        for ind, r in readings:
            assert ind.bounds.min <= r.value <= ind.bounds.max, (ind.id, r)


# -- scores and rows ---------------------------------------------------------------------------------


LEVELS = [(4.0, 5, "Optimum"), (3.0, 4, "Terpadu dan Terukur"), (2.0, 3, "Terdefinisi"), (1.0, 2, "Terkelola"),
          (0.0, 1, "Rintisan")]  # fmt: skip


def level_of(index: float) -> tuple[int, str]:
    return next((level, name) for floor, level, name in LEVELS if index >= floor)


def test_each_day_is_scored_at_its_local_close_with_the_level_of_its_index() -> None:
    scores = list(sh.region_scores(FW, past(JAYAWIJAYA, date(2024, 3, 1), date(2024, 3, 21))))
    assert [d for d, _ in scores] == [date(2024, 3, 1) + timedelta(days=n) for n in range(21)]
    first: RegionScore = scores[0][1]
    assert first.evaluated_at == utc(2024, 3, 1, 14, 59, 59)  # 23:59:59 WIT
    for _day, s in scores:
        assert s.status == "ok" and s.coverage == pytest.approx(1.0) and s.index is not None
        assert (s.level, s.level_name) == level_of(s.index)
    applied = [s.events_applied for _d, s in scores]
    assert applied == sorted(applied) and applied[0] < applied[-1]


def test_a_row_is_the_history_writer_s_closing_snapshot_without_a_source() -> None:
    score = a_region_score(framework="pp59_2022@2026.1", evaluated_at=utc(2024, 3, 1, 16, 59, 59))
    written = snapshot_rows(score, Source("region-scores", 0, 1), Downsampling(), utc(2024, 3, 2))[-1].values()
    row = sh.snapshot_values(score, date(2024, 3, 1))
    assert row == {**written, "source_partition": None, "source_offset": None, "simulated": True}
    assert (row["resolution"], row["day"], row["framework_id"], row["framework_version"]) == (
        "day", date(2024, 3, 1), "pp59_2022", "2026.1")  # fmt: skip
    assert sh.record(row)[sh.COLUMNS.index("dimensions")].startswith('[{"dimension_id":"governance"')


def test_the_seeded_past_is_fixed_by_the_seed() -> None:
    rows = sh.region_rows(FW, past(BANDUNG, date(2024, 5, 1), date(2024, 5, 10)))
    assert sh.region_rows(FW, past(BANDUNG, date(2024, 5, 1), date(2024, 5, 10))) == rows
    assert sh.region_rows(FW, past(BANDUNG, date(2024, 5, 1), date(2024, 5, 10), seed=8)) != rows
    assert [r["day"] for r in sh.region_rows(FW, past(BANDUNG, date(2024, 5, 1), date(2024, 5, 10)),
                                             keep=lambda d: d.day % 2 == 0)] == [
        date(2024, 5, d) for d in (2, 4, 6, 8, 10)]  # fmt: skip


def test_the_history_shows_progress_and_some_regions_behind_the_national_path() -> None:
    """The national path: 2.0 at the end of 2024, 2.3 at the end of 2025 (masterplan-national-2029.yaml)."""
    days = {date(2024, 1, 1): None, date(2024, 12, 31): 2.0, date(2025, 12, 31): 2.3, date(2026, 11, 30): None}
    sample = sorted(default_registry().regions)[::50]  # 11 regions
    index: dict[date, list[float]] = {d: [] for d in days}
    for region in sample:
        for day, s in sh.region_scores(FW, past(region, date(2024, 1, 1), date(2026, 11, 30)), keep=days.__contains__):
            assert s.index is not None
            index[day].append(s.index)
    mean = {d: sum(v) / len(v) for d, v in index.items()}
    assert mean[date(2024, 1, 1)] < mean[date(2024, 12, 31)] < mean[date(2025, 12, 31)] < mean[date(2026, 11, 30)]
    assert mean[date(2026, 11, 30)] - mean[date(2024, 1, 1)] > 0.5
    for day in (date(2024, 12, 31), date(2025, 12, 31)):
        path = days[day]
        assert path is not None
        behind = [i for i in index[day] if i < path]
        assert 0 < len(behind) < len(sample) / 2, (day, behind)


def test_a_day_s_readings_do_not_depend_on_where_a_simulation_starts() -> None:
    p = past(JAYAWIJAYA, date(2024, 1, 1), date(2025, 6, 30))
    readings = sh.DayReadings(FW, p)
    whole = dict(sh.daily_readings(FW, p))
    part = dict(sh.daily_readings(FW, p, (date(2025, 2, 1), date(2025, 2, 28))))
    assert min(part) == date(2025, 1, 2)  # a 30-day warm-up
    assert all(part[d] == whole[d] for d in part if d != date(2025, 1, 2))
    # The first day opens with every statistic, as observed on 1 January (2024's figures).
    statistics = [(ind.id, r) for ind, r in part[date(2025, 1, 2)] if ind.aggregation.window is None]
    assert statistics == [(ind.id, r) for ind, r in whole[date(2025, 1, 1)] if ind.aggregation.window is None]
    assert len(statistics) == 26 and ("IPM", 49.36) in [(i, r.value) for i, r in statistics]
    for day in (date(2024, 1, 1), date(2024, 1, 7), date(2024, 3, 5)):
        assert readings.count(day) == len(readings.on(day))
        assert readings.count(day, opening=True) == len(readings.on(day, opening=True))


def test_a_resumed_region_scores_exactly_what_one_run_would_have() -> None:
    p = past(BANDUNG, date(2024, 11, 1), date(2025, 2, 28))
    whole = sh.region_rows(FW, p)
    later = sh.region_rows(FW, p, (date(2025, 1, 20), date(2025, 2, 28)))
    assert later == [r for r in whole if r["day"] >= date(2025, 1, 20)]  # events_applied included
    assert [r["day"] for r in later] == [date(2025, 1, 20) + timedelta(days=n) for n in range(40)]


def test_a_job_covers_the_days_around_those_already_seeded() -> None:
    p = past(BANDUNG, date(2024, 1, 1), date(2024, 12, 31))
    assert sh.Job.of(p, None).spans == ((date(2024, 1, 1), date(2024, 12, 31)),)
    assert sh.Job.of(p, (date(2024, 1, 1), date(2024, 12, 31))).spans == ()
    assert sh.Job.of(p, (date(2023, 6, 1), date(2025, 1, 5))).spans == ()
    assert sh.Job.of(p, (date(2024, 1, 1), date(2024, 12, 29))).spans == ((date(2024, 12, 30), date(2024, 12, 31)),)
    assert sh.Job.of(p, (date(2024, 3, 1), date(2024, 12, 31))).spans == ((date(2024, 1, 1), date(2024, 2, 29)),)
    assert sh.Job.of(p, (date(2024, 3, 1), date(2024, 3, 31))).spans == (
        (date(2024, 1, 1), date(2024, 2, 29)), (date(2024, 4, 1), date(2024, 12, 31)))  # fmt: skip
    assert sh.Job.of(p, (date(2025, 3, 1), date(2025, 3, 31))).spans == ((date(2024, 1, 1), date(2024, 12, 31)),)
