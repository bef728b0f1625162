"""``pantau history seed-demo``: a believable past for the demo, one simulated closing snapshot per region per day.

The scores come from the real scorer (services/scoring/domain: ``apply_reading``, ``score_region`` with a
``ScoreCache`` per region), fed with readings made up the way ``pantau simulate`` makes its own:

- **Statistics** ('latest' aggregation) are observed once a year, at the end of the year they describe
  (00:00 of 1 January in the region's zone): during 2024 a region's IPM is its BPS 2023 figure, from
  1 January 2025 its 2024 one. Real BPS figures where schemas/data has them (IPM 2020-2024, P0 2024); a
  year the file lacks takes the figure of the nearest year it has. Other statistics are drawn at the
  region's quality of the day with the simulator's stable per-indicator offset.
- **Live indicators** are read as often as their window needs (:class:`Feed`): windows under a week
  daily, the others weekly; sums on the scorer's bucket boundaries, each reading its share of the drawn
  total, so that the window always adds up to it. A day's readings depend on that day alone, so a seed
  resumed later (a 30-day warm-up before its first missing day) scores what one run would have.
- **Quality** (0-1, pantau.simulate's scale) rises over the seeded days from ``deficit`` below the live
  simulator's per-region quality to that quality on the last day, along ``t ** shape``: a shape above 1
  rises late, so such a region stays behind the national path for years. Day-to-day noise is small.
  Everything is deterministic by ``seed`` (the simulator's 7 by default, so the live feed carries on
  from where the seeded past ends).

Rows are ``resolution='day'`` snapshots at the local day's 23:59:59, ``simulated`` and without a source
record, inserted ``ON CONFLICT DO NOTHING`` on the day key: a live snapshot of a day stays as it is, and
a second run inserts nothing. One transaction per region; a region whose simulated days already span the
requested ones is skipped (one query for all regions at the start), so an interrupted seed resumes.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg import sql as psql
from sqlalchemy.dialects.postgresql import insert as pg_insert

from pantau.simulate import bps_observations, quality_value, region_quality
from schemas.framework import Framework, Indicator, load_framework
from schemas.regions import default_registry
from schemas.scores import RegionScore
from schemas.timezones import local_day, zone_of_region
from services.history.adapters.postgres import score_snapshots
from services.history.domain import split_framework
from services.scoring.domain.scoring import ScoreCache, score_region
from services.scoring.domain.state import Outcome, Reading, RegionState, apply_reading, bucket_width, to_micros

#: The default first day: a year before the national masterplan's 2024-12-31 baseline.
START = date(2024, 1, 1)
#: pantau simulate's default seed: the same per-region qualities.
SEED = 7
DAY = timedelta(days=1)
DAY_US = to_micros(DAY)
WEEK_US = 7 * DAY_US
#: A day's closing snapshot is scored at 23:59:59 local time.
CLOSE = clock_time(23, 59, 59)
#: The scorer's default allowed lateness (SCORING_ALLOWED_LATENESS); readings arrive in order here anyway.
LATENESS_US = to_micros(timedelta(minutes=5))
#: Live readings drawn around the day's quality, as pantau simulate draws them.
LIVE_NOISE = 0.05
#: A statistic's yearly figure moves a little around the region's quality too.
YEARLY_NOISE = 0.02
DEFICIT = (0.2, 0.5)
SHAPE = (0.5, 3.0)

BPS = dict[tuple[str, str], dict[int, float]]
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A region's quality over the seeded days: ``quality - deficit`` on the first, ``quality`` on the
    last, rising along ``t ** shape`` (t: the share of the seeded days gone by)."""

    quality: float
    deficit: float
    shape: float

    def on(self, t: float) -> float:
        t = min(1.0, max(0.0, t))
        return self.quality - self.deficit * (1.0 - math.pow(t, self.shape))


def trajectory(region: str, seed: int) -> Trajectory:
    """The region's trajectory: it ends at pantau simulate's quality; its deficit and shape are drawn."""
    rng = random.Random(f"{seed}:{region}:past")
    deficit = rng.uniform(*DEFICIT)
    shape = math.exp(rng.uniform(math.log(SHAPE[0]), math.log(SHAPE[1])))
    return Trajectory(region_quality(region, seed), deficit, shape)


@dataclass(frozen=True, slots=True)
class Feed:
    """How often a live indicator is read, when, and which share of the drawn value a reading is.

    Means, minima and maxima: daily under a week's window, else weekly (on Sundays), halfway through the
    day (or a shorter window) before the close. Sums: at the multiples since the epoch of the shortest
    whole number of days that is also a whole number of the scorer's buckets (30 days: buckets of 30 hours,
    every 5 days at 00:00 UTC), each reading its share of the drawn total: the window then always holds
    the same number of readings and adds up to that total instead of wobbling with how many it covers.
    """

    indicator: Indicator
    share: float
    every: int = 1  # days between readings, counted from 0001-01-01 (weekly: Sundays)
    offset_us: int = 0  # before the day's close
    period_us: int = 0  # a sum's readings: at the multiples of this since the epoch instead

    @classmethod
    def of(cls, ind: Indicator) -> Feed:
        assert ind.window_us is not None, f"{ind.id} is a statistic"
        window, offset = ind.window_us, min(ind.window_us, DAY_US) // 2
        if ind.aggregation.method != "sum":
            return cls(ind, 1.0, 1 if window < WEEK_US else 7, offset)
        period = math.lcm(DAY_US, bucket_width(window))
        if period > window:  # a window of no whole number of days: daily, as it falls
            return cls(ind, DAY_US / window, 1, offset)
        return cls(ind, period / window, period_us=period)

    def at(self, day: date, close_us: int) -> int | None:
        """When the reading of ``day`` (closing at ``close_us``) is observed; None: no reading that day."""
        if self.period_us:
            t = close_us - close_us % self.period_us
            return t if t > close_us - DAY_US else None
        return close_us - self.offset_us if day.toordinal() % self.every == 0 else None


def warm_up(framework: Framework) -> int:
    """Days simulated before the first seeded one, so that its windows are full: the longest window's."""
    windows = [i.aggregation.window for i in framework.indicators if i.aggregation.window is not None]
    return math.ceil(max(windows, default=DAY) / DAY)


def bps_figure(periods: dict[int, float], year: int) -> float:
    """The BPS figure of ``year``, else of the nearest year the file has (the later one of two as near)."""
    if year in periods:
        return periods[year]
    return periods[min(periods, key=lambda p: (abs(p - year), -p))]


@dataclass(frozen=True)
class RegionPast:
    """What one region's seeded past is made from."""

    region: str
    first: date
    last: date
    trajectory: Trajectory
    seed: int
    bps: dict[str, dict[int, float]] = field(default_factory=dict)  # indicator -> {year: value}

    def quality_on(self, day: date) -> float:
        span = max((self.last - self.first).days, 1)
        return self.trajectory.on((day - self.first).days / span)


def region_past(region: str, first: date, last: date, seed: int, bps: BPS) -> RegionPast:
    """The past of ``region`` from ``first`` to ``last``: its trajectory and its BPS figures."""
    real = {ind: periods for (r, ind), periods in bps.items() if r == region and periods}
    return RegionPast(region, first, last, trajectory(region, seed), seed, real)


def _bounded(ind: Indicator, value: float) -> float:
    return min(ind.bounds.max, max(ind.bounds.min, round(value, 4)))


Readings = list[tuple[Indicator, Reading]]


class DayReadings:
    """The readings of a region's seeded past, day by day; a day's depend on that day only (and the past),
    not on where a simulation started, so a seed resumed later scores exactly what one run would have."""

    def __init__(self, framework: Framework, past: RegionPast) -> None:
        self.past = past
        self.zone = zone_of_region(past.region)
        self.statistics = [i for i in framework.indicators if i.aggregation.window is None]
        self.feeds = [Feed.of(i) for i in framework.indicators if i.aggregation.window is not None]
        # pantau simulate's stable offset of each statistic from the region's quality.
        self.offset = {i.id: random.Random(f"{past.seed}:{past.region}:{i.id}").uniform(-0.1, 0.1)
                       for i in self.statistics}  # fmt: skip

    def on(self, day: date, opening: bool = False) -> Readings:
        """The readings observed on ``day``: on 1 January (and, with ``opening``, on the first day a
        simulation runs) every statistic's figure of the year before, observed at the year's start; the live
        indicators due that day (weekly ones on Sundays)."""
        past, out = self.past, []
        if opening or (day.month, day.day) == (1, 1):
            out = self.yearly(day.year)
        rng = random.Random(f"{past.seed}:{past.region}:{day.toordinal()}")
        q = past.quality_on(day)
        close = to_micros(datetime.combine(day, CLOSE, self.zone))
        for f in self.feeds:
            at = f.at(day, close)
            if at is not None:
                value = quality_value(f.indicator, q + rng.uniform(-LIVE_NOISE, LIVE_NOISE)) * f.share
                out.append(
                    (f.indicator, Reading(f"d{day.toordinal()}", f.indicator.id, at, _bounded(f.indicator, value)))
                )
        return out

    def yearly(self, year: int) -> Readings:
        """Every statistic's figure of ``year - 1``, observed at 00:00 of 1 January ``year`` local time."""
        past = self.past
        new_year = date(year, 1, 1)
        observed = to_micros(datetime.combine(new_year, clock_time(), self.zone))
        q = past.quality_on(new_year)
        rng = random.Random(f"{past.seed}:{past.region}:{year}")
        out: Readings = []
        for ind in self.statistics:
            real = past.bps.get(ind.id)
            if real:
                value = bps_figure(real, year - 1)
            else:
                value = quality_value(ind, q + self.offset[ind.id] + rng.uniform(-YEARLY_NOISE, YEARLY_NOISE))
            out.append((ind, Reading(f"y{year}", ind.id, observed, _bounded(ind, value))))
        return out

    def count(self, day: date, opening: bool = False) -> int:
        """How many readings :meth:`on` returns (without drawing them)."""
        close = to_micros(datetime.combine(day, CLOSE, self.zone))
        yearly = len(self.statistics) if opening or (day.month, day.day) == (1, 1) else 0
        return yearly + sum(1 for f in self.feeds if f.at(day, close) is not None)


def daily_readings(
    framework: Framework, past: RegionPast, days: tuple[date, date] | None = None
) -> Iterator[tuple[date, Readings]]:
    """Every day from the warm-up before ``days`` (default: the whole past) to its last, with its readings."""
    first, last = days or (past.first, past.last)
    readings = DayReadings(framework, past)
    day = opening = first - warm_up(framework) * DAY
    while day <= last:
        yield day, readings.on(day, day == opening)
        day += DAY


def closing_time(day: date, region: str) -> datetime:
    """23:59:59 of ``day`` in the region's zone (as an aware local time)."""
    return datetime.combine(day, CLOSE, zone_of_region(region))


def snapshot_values(score: RegionScore, day: date) -> dict[str, Any]:
    """The ``score_snapshots`` row of a simulated closing snapshot (mapped as the history writer maps a
    RegionScore: services/history/domain/rows.py), with no source record."""
    framework_id, version = split_framework(score.framework)
    return {
        "region_code": score.region_code, "province_code": score.province_code, "framework_id": framework_id,
        "framework_version": version, "resolution": "day", "at": score.evaluated_at.astimezone(UTC), "day": day,
        "index": score.index, "level": score.level, "level_name": score.level_name, "coverage": score.coverage,
        "status": score.status.value, "dimensions": [d.model_dump(mode="json") for d in score.dimensions],
        "events_applied": score.events_applied, "simulated": True, "source_partition": None, "source_offset": None,
    }  # fmt: skip


def region_scores(
    framework: Framework,
    past: RegionPast,
    days: tuple[date, date] | None = None,
    keep: Callable[[date], bool] | None = None,
) -> Iterator[tuple[date, RegionScore]]:
    """The region's closing score of each day of ``days`` (default: the whole past; those ``keep`` accepts),
    by the real scorer: the day's readings applied, then the region scored at 23:59:59 local time. A
    simulation starts a warm-up before ``days``; ``events_applied`` counts from the past's own start."""
    first, last = days or (past.first, past.last)
    state = RegionState(applied=_applied_before(framework, past, first))
    cache = ScoreCache()
    for day, readings in daily_readings(framework, past, (first, last)):
        for ind, reading in readings:
            outcome = apply_reading(state, reading, ind, LATENESS_US)
            assert outcome is Outcome.SCORED, f"{past.region} {reading}: {outcome}"
        if day >= first and (keep is None or keep(day)):
            yield day, score_region(state, framework, past.region, closing_time(day, past.region), cache)


def _applied_before(framework: Framework, past: RegionPast, first: date) -> int:
    """Readings a simulation of the whole past applies before one starting a warm-up before ``first`` does
    (which opens with every statistic again): so that both count the same events on every day."""
    readings = DayReadings(framework, past)
    start, opening = past.first - warm_up(framework) * DAY, first - warm_up(framework) * DAY
    if opening <= start:
        return 0
    total = sum(readings.count(start + n * DAY, n == 0) for n in range((opening - start).days + 1))
    return total - readings.count(opening, True)


def region_rows(
    framework: Framework,
    past: RegionPast,
    days: tuple[date, date] | None = None,
    keep: Callable[[date], bool] | None = None,
) -> list[dict[str, Any]]:
    """The ``score_snapshots`` rows of :func:`region_scores`."""
    return [snapshot_values(score, day) for day, score in region_scores(framework, past, days, keep)]


@dataclass(frozen=True)
class SeedResult:
    """What a seed did: regions seeded (some days inserted or tried), skipped (already seeded), rows new."""

    regions_seeded: int
    regions_skipped: int
    rows_inserted: int
    seconds: float


#: The columns a simulated snapshot fills (``written_at`` is the server's).
COLUMNS = ("region_code", "province_code", "framework_id", "framework_version", "resolution", "at", "day",
           "index", "level", "level_name", "coverage", "status", "dimensions", "events_applied", "simulated",
           "source_partition", "source_offset")  # fmt: skip
#: Rows are copied into a temporary table first, then moved over ``ON CONFLICT DO NOTHING`` (COPY has none).
STAGE = "pantau_seed_snapshots"
_stage = sa.table(STAGE, *(sa.column(c) for c in COLUMNS))
#: A closing snapshot's key is its local day (the partial unique index uq_score_snapshots_region_day).
MOVE = (
    pg_insert(score_snapshots)
    .from_select(list(COLUMNS), sa.select(*_stage.c))
    .on_conflict_do_nothing(
        index_elements=["region_code", "framework_id", "framework_version", "day"],
        index_where=sa.text("resolution = 'day'"),
    )
    .returning(score_snapshots.c.day)
)
COPY = psql.SQL("COPY {} ({}) FROM STDIN").format(
    psql.Identifier(STAGE), psql.SQL(", ").join(psql.Identifier(c) for c in COLUMNS)
)

Record = tuple[Any, ...]


def record(values: dict[str, Any]) -> Record:
    """A row as COPY takes it: the columns in order, the dimensions as JSON text."""
    return tuple(orjson.dumps(values[c]).decode() if c == "dimensions" else values[c] for c in COLUMNS)


def seeded_spans(conn: sa.Connection, framework: Framework) -> dict[str, tuple[date, date]]:
    """Region -> (first, last) simulated day already stored under ``framework``."""
    c = score_snapshots.c
    query = (
        sa.select(c.region_code, sa.func.min(c.day), sa.func.max(c.day))
        .where(c.resolution == "day", c.simulated, c.framework_id == framework.id,
               c.framework_version == framework.version)
        .group_by(c.region_code)
    )  # fmt: skip
    return {r: (lo, hi) for r, lo, hi in conn.execute(query)}


@dataclass(frozen=True)
class Job:
    """One region to seed: its past, and the spans of days it still lacks (around those already seeded)."""

    past: RegionPast
    spans: tuple[tuple[date, date], ...]

    @classmethod
    def of(cls, past: RegionPast, seeded: tuple[date, date] | None) -> Job:
        if seeded is None:
            return cls(past, ((past.first, past.last),))
        lo, hi = seeded
        spans = []
        if past.first < lo:
            spans.append((past.first, min(past.last, lo - DAY)))
        if past.last > hi:
            spans.append((max(past.first, hi + DAY), past.last))
        return cls(past, tuple(spans))


_worker_framework: Framework | None = None


def _start_worker(framework: Framework) -> None:
    global _worker_framework
    _worker_framework = framework


def _records(job: Job, framework: Framework | None = None) -> list[Record]:
    fw = framework or _worker_framework
    assert fw is not None, "a worker starts with its framework"
    return [record(v) for days in job.spans for v in region_rows(fw, job.past, days)]


def seed_demo_history(
    engine: sa.Engine,
    *,
    regions: Sequence[str] | None = None,
    start: date = START,
    end: date | None = None,
    seed: int = SEED,
    framework: Framework | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Progress | None = None,
    workers: int | None = None,
) -> SeedResult:
    """Seed the history store with one simulated closing snapshot per region and local day.

    From ``start`` to ``end`` (default: yesterday in each region's zone at ``clock()``), for ``regions``
    (default: all 514), scored under ``framework`` (default: the shipped one; pass the one scoring uses).
    A region whose simulated days already cover the span is skipped; otherwise the days before and after
    them are scored (from a warm-up before the first missing day, so as one run would have) and inserted
    in one transaction, never over a snapshot already stored for the day. The regions are scored by
    ``workers`` processes (default: one per CPU, at most 4; 1: in this process) while this one writes.
    ``progress(done, total)`` is called once the skipped regions are known (done = those), then after
    each region. Raises ValueError when ``end`` is before ``start``.
    """
    if end is not None and end < start:
        raise ValueError(f"the last day {end} is before the first day {start}")
    t0 = time.perf_counter()
    fw = framework or load_framework()
    codes = list(regions) if regions is not None else sorted(default_registry().regions)
    now = clock()
    bps = bps_observations()
    with engine.connect() as conn:
        spans = seeded_spans(conn, fw)
    jobs: list[Job] = []
    for region in codes:
        last = end if end is not None else local_day(now, region) - DAY
        if last >= start:
            job = Job.of(region_past(region, start, last, seed, bps), spans.get(region))
            if job.spans:
                jobs.append(job)
    skipped = len(codes) - len(jobs)
    done = skipped
    if progress is not None:
        progress(done, len(codes))
    inserted = 0
    for records in _scored(jobs, fw, workers or min(4, os.cpu_count() or 1)):
        inserted += _insert(engine, records)
        done += 1
        if progress is not None:
            progress(done, len(codes))
    return SeedResult(len(jobs), skipped, inserted, time.perf_counter() - t0)


def _scored(jobs: Sequence[Job], framework: Framework, workers: int) -> Iterator[list[Record]]:
    """Each job's records, in the order they are ready; at most two jobs per worker in flight."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _records(job, framework)
        return
    # fork where there is one: no re-import of __main__; the workers never touch the parent's connections.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), context, _start_worker, (framework,)) as pool:
        queue = iter(jobs)
        pending = {pool.submit(_records, job) for job in itertools.islice(queue, 2 * workers)}
        try:
            while pending:
                ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    yield future.result()
                    pending.update(pool.submit(_records, job) for job in itertools.islice(queue, 1))
        finally:
            for future in pending:
                future.cancel()


def _insert(engine: sa.Engine, records: Sequence[Record]) -> int:
    """Copy one region's records in and move them over in one transaction; how many were new."""
    if not records:
        return 0
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"CREATE TEMPORARY TABLE {STAGE} (LIKE score_snapshots INCLUDING DEFAULTS) ON COMMIT DROP")
        )
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with driver.cursor() as cursor, cursor.copy(COPY) as copy:
            for r in records:
                copy.write_row(r)
        return len(conn.execute(MOVE).all())
