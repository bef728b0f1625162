"""Every SQL query of every Grafana board, run on a real PostgreSQL holding a history written by hand.

In a schema of its own the test writes, through the history store's own writes (PostgresStore), the
closing snapshots of three regions in three time zones over January and February 2025 (two levels and
a day without an index among them, two scores on one day, a day whose local date is the next month's,
one under another framework version, one before the time range), one simulated day marked as the demo's
seeding marks it, and plan versions to 2029 (a region's own plan replacing the national default, a
later national default, one under another framework). Then it takes each SQL target of
deploy/grafana/dashboards/*.json, expands it as Grafana does (services.ops.grafana_panels.expand_sql:
the ``$region`` variable, the ``$__timeFilter`` macro over the panel's range), runs it in a session
whose time zone is not UTC, reads the rows into series the way Grafana's SQL data sources name them,
and compares them with the figures worked out below by hand, over two time ranges. Every SQL query must
be checked: the set of checked queries must equal the set of all SQL queries of the boards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from schemas.framework import load_framework
from services.history.adapters.postgres import PostgresStore
from services.history.domain import Batch, Downsampling, Source, plan_row, snapshot_rows
from services.ops.grafana_build import DASHBOARDS_DIR
from services.ops.grafana_panels import LEVEL_NAMES, expand_sql, is_sql, iter_panels
from tests.history_support import a_masterplan, a_region_score
from tests.integration.helpers import history_schema

pytestmark = pytest.mark.integration

FW = load_framework()
A, B, C = "32.73", "73.71", "91.71"  # Kota Bandung (WIB, +7), Kota Makassar (WITA, +8), Kota Jayapura (WIT, +9)
#: The writer's clock: fine snapshots of the last 30 days (from 30 January) are kept beside the closing ones.
WRITTEN_AT = datetime(2025, 3, 1, tzinfo=UTC)
#: Not UTC, so that a query that leaned on the session's time zone would show it.
SESSION_TIME_ZONE = "Asia/Jayapura"
WIDE = (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
NARROW = (datetime(2025, 1, 15, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))

Key = tuple[str, str, str]
Series = dict[str, list[tuple[datetime, float | None]]]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------------------------------- the history


@dataclass(frozen=True)
class Day:
    """A score as the scoring service would publish it (``dims``: dimension -> score, None: insufficient)."""

    region: str
    at: datetime
    index: float | None
    level: int | None
    dims: dict[str, float | None]
    framework: str = FW.key


SCORES = [
    Day(A, utc(2024, 11, 20, 5), 2.0, 3, {"governance": 2.1, "economy": 1.9}),  # before both ranges
    Day(A, utc(2025, 1, 10, 5), 2.4, 3, {"governance": 2.5, "economy": 2.3}),  # simulated (below)
    Day(A, utc(2025, 1, 31, 16, 30), 2.6, 3, {"governance": 2.7, "economy": None}),  # 23:30 WIB, 31 January
    Day(A, utc(2025, 1, 31, 10), 4.5, 5, {"governance": 4.5, "economy": 4.5}, framework=f"{FW.id}@2025.1"),
    Day(A, utc(2025, 2, 15, 2), 3.0, 4, {"governance": 3.1, "economy": 2.9}),  # replaced by the next one
    Day(A, utc(2025, 2, 15, 10), 3.1, 4, {"governance": 3.2, "economy": 3.0}),  # 15 February's closing
    Day(B, utc(2025, 1, 20, 4), 1.8, 2, {"governance": 1.7}),  # simulated (below)
    Day(B, utc(2025, 2, 27, 15, 30), None, None, {"governance": None}),  # insufficient data: no index
    Day(C, utc(2025, 1, 5, 3), 3.4, 4, {"governance": 3.5}),
    Day(C, utc(2025, 1, 31, 16), 3.6, 4, {"governance": 3.7}),  # 01:00 WIT: Jayapura's 1 February
]
#: (region, local day) of the closing snapshots the demo's seeding synthesised.
SIMULATED = [(A, "2025-01-10"), (B, "2025-01-20")]
MARK_SIMULATED = sa.text(
    "UPDATE score_snapshots SET simulated = true "
    "WHERE region_code = :r AND resolution = 'day' AND day = CAST(:d AS date)"
)

#: (region, plan_id, basis, framework id, received (Kafka timestamp), milestones).
PLANS: list[tuple[str, str, str, str, datetime, list[dict[str, Any]]]] = [
    (A, "national-2029", "national_default", FW.id, utc(2024, 12, 1),
     [{"due": "2024-12-31", "targets": {"index": 2.0}}, {"due": "2029-12-31", "targets": {"index": 3.5}}]),
    (B, "national-2029", "national_default", FW.id, utc(2024, 12, 1),
     [{"due": "2024-12-31", "targets": {"index": 2.0}}, {"due": "2029-12-31", "targets": {"index": 3.5}}]),
    # Bandung's own plan replaces the national default; its 2027 milestone sets no index target.
    (A, "bandung-2029", "region", FW.id, utc(2025, 1, 15),
     [{"due": "2025-12-31", "targets": {"index": 2.8, "governance": 2.9}},
      {"due": "2027-12-31", "targets": {"governance": 3.0}},
      {"due": "2029-12-31", "targets": {"index": 3.9}}]),
    (B, "makassar-2029", "region", FW.id, utc(2025, 2, 10), [{"due": "2029-12-31", "targets": {"index": 3.0}}]),
    # The latest version of the national default (Jayapura's copy of it).
    (C, "national-2029", "national_default", FW.id, utc(2025, 2, 5),
     [{"due": "2024-12-31", "targets": {"index": 2.0}}, {"due": "2027-12-31", "targets": {"index": 2.9}},
      {"due": "2029-12-31", "targets": {"index": 3.5}}]),
    # Later than all, but for another framework: on neither path.
    (A, "national-2030", "national_default", "pp59_2030", utc(2025, 2, 20),
     [{"due": "2029-12-31", "targets": {"index": 5.0}}]),
]  # fmt: skip


def _score_batch(day: Day, offset: int) -> Batch:
    score = a_region_score(
        region_code=day.region, province_code=day.region[:2], framework=day.framework, evaluated_at=day.at,
        index=day.index, level=day.level, level_name=LEVEL_NAMES.get(day.level or 0),
        status="ok" if day.index is not None else "insufficient_data",
        dimensions=[{"dimension_id": d, "score": s, "coverage": 0.9 if s is not None else 0.2,
                     "status": "ok" if s is not None else "insufficient_data", "elements": []}
                    for d, s in day.dims.items()],
    )  # fmt: skip
    partition = {A: 0, B: 1, C: 2}[day.region]  # a region's scores are on one partition, in order
    return Batch.of(snapshot_rows(score, Source("region-scores", partition, offset), Downsampling(), WRITTEN_AT))


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    with history_schema(postgres_url, "gs", options=f"-c TimeZone={SESSION_TIME_ZONE}") as (_url, eng):
        store = PostgresStore(eng, consumer="pantau-history")
        for offset, day in enumerate(SCORES):
            store.write(_score_batch(day, offset), [])
        for offset, (region, plan_id, basis, framework_id, received, milestones) in enumerate(PLANS):
            plan = a_masterplan(region_code=region, plan_id=plan_id, basis=basis, framework_id=framework_id,
                                milestones=milestones)  # fmt: skip
            source = Source("masterplan-milestones", 0, offset, int(received.timestamp() * 1000))
            store.write(Batch.of([plan_row(plan, source, WRITTEN_AT)]), [])
        # The store writes live scores; the demo's seeding marks the snapshots it synthesised so.
        with eng.begin() as conn:
            for region, local_day in SIMULATED:
                marked = conn.execute(MARK_SIMULATED, {"r": region, "d": local_day})
                assert marked.rowcount == 1, (region, local_day)
        yield eng


# ---------------------------------------------------------------------------------------- the figures

JAN, FEB = utc(2025, 1, 1), utc(2025, 2, 1)
REGION_INDEX = "Maturity index since the baseline against the masterplan path"
REGION_DIMENSIONS = "Dimension scores since the baseline"
LEVELS = "Regions per maturity level by month"
MEAN = "Mean maturity index by month against the national path"

#: Bandung's latest plan version for this framework: its own, with the 2027 milestone (no index) left out.
REGION_PATH: Series = {"masterplan path": [(utc(2025, 12, 31), 2.8), (utc(2029, 12, 31), 3.9)]}
#: Jayapura's copy, received last, of the national default.
NATIONAL_PATH: Series = {"national path": [(utc(2024, 12, 31), 2.0), (utc(2027, 12, 31), 2.9),
                                           (utc(2029, 12, 31), 3.5)]}  # fmt: skip

# 1 December 2024 - 1 March 2025. Month closings: January: Bandung 31 Jan (2.6, level 3), Makassar 20 Jan
# (1.8, level 2, simulated), Jayapura 5 Jan (3.4, level 4); February: Bandung 15 Feb (3.1, level 4, the
# later of the day's two scores), Makassar 27 Feb (no index), Jayapura 1 Feb (3.6, level 4: 31 January in
# UTC). Not counted: Bandung's 20 November (before the range), its 10 January (not its last of January),
# its other framework version, the fine snapshots.
WIDE_FIGURES: dict[Key, Series] = {
    ("pantau-region", REGION_INDEX, "A"): {
        "index, simulated (demo seed)": [(utc(2025, 1, 10), 2.4)],
        "index": [(utc(2025, 1, 31), 2.6), (utc(2025, 2, 15), 3.1)],
    },
    ("pantau-region", REGION_INDEX, "B"): REGION_PATH,
    ("pantau-region", REGION_DIMENSIONS, "A"): {
        "economy, simulated (demo seed)": [(utc(2025, 1, 10), 2.3)],
        "governance, simulated (demo seed)": [(utc(2025, 1, 10), 2.5)],
        "economy": [(utc(2025, 1, 31), None), (utc(2025, 2, 15), 3.0)],
        "governance": [(utc(2025, 1, 31), 2.7), (utc(2025, 2, 15), 3.2)],
    },
    ("pantau-national", LEVELS, "A"): {
        "2 Terkelola": [(JAN, 1)],
        "3 Terdefinisi": [(JAN, 1)],
        "4 Terpadu dan Terukur": [(JAN, 1), (FEB, 2)],
        "no level (insufficient data)": [(FEB, 1)],
    },
    ("pantau-national", LEVELS, "B"): {"of which simulated (demo seed)": [(JAN, 1), (FEB, 0)]},
    ("pantau-national", MEAN, "A"): {
        "mean index, with simulated days (demo seed)": [(JAN, (2.6 + 1.8 + 3.4) / 3)],  # 2.6
        "mean index": [(FEB, (3.1 + 3.6) / 2)],  # 3.35; Makassar has no index
    },
    ("pantau-national", MEAN, "B"): NATIONAL_PATH,
}

# 15 January - 1 March 2025: Bandung's 10 January and Jayapura's 5 January drop out; the paths do not
# depend on the range (their lines run on to the panel's edges).
NARROW_FIGURES: dict[Key, Series] = {
    **WIDE_FIGURES,
    ("pantau-region", REGION_INDEX, "A"): {"index": [(utc(2025, 1, 31), 2.6), (utc(2025, 2, 15), 3.1)]},
    ("pantau-region", REGION_DIMENSIONS, "A"): {
        "economy": [(utc(2025, 1, 31), None), (utc(2025, 2, 15), 3.0)],
        "governance": [(utc(2025, 1, 31), 2.7), (utc(2025, 2, 15), 3.2)],
    },
    ("pantau-national", LEVELS, "A"): {
        "2 Terkelola": [(JAN, 1)],
        "3 Terdefinisi": [(JAN, 1)],
        "4 Terpadu dan Terukur": [(FEB, 2)],
        "no level (insufficient data)": [(FEB, 1)],
    },
    ("pantau-national", MEAN, "A"): {
        "mean index, with simulated days (demo seed)": [(JAN, (2.6 + 1.8) / 2)],  # 2.2
        "mean index": [(FEB, (3.1 + 3.6) / 2)],
    },
}
#: The values of the boards' template variables in this history.
VARIABLES = {"region": A}


# ---------------------------------------------------------------------------------------- the boards


def sql_targets() -> dict[Key, dict[str, Any]]:
    """(board uid, panel title, refId) -> target, for every SQL query of every board."""
    out: dict[Key, dict[str, Any]] = {}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in iter_panels(board):
            for t in panel.get("targets", []):
                if is_sql(t):
                    out[(board["uid"], panel["title"], t["refId"])] = t
    return out


def run(engine: sa.Engine, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The query's columns and rows, the SQL sent as it is (as Grafana sends it: no client-side parameters)."""
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TimeZone").scalar_one() == SESSION_TIME_ZONE
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql)
        columns = [d.name for d in cursor.description]
        return columns, [tuple(r) for r in cursor.fetchall()]


def as_series(columns: list[str], rows: list[tuple[Any, ...]]) -> Series:
    """Rows of a ``time_series`` query as Grafana's SQL data sources turn them into series: ``time`` first
    and ascending; ``time, metric, value`` is one series per metric, named by it; otherwise one series
    per value column, named after it."""
    assert columns[0] == "time", columns
    times = [r[0] for r in rows]
    assert all(isinstance(t, datetime) and t.tzinfo is not None for t in times), times
    assert times == sorted(times), "Grafana needs the time column ascending"
    out: Series = {}
    if columns[1:] == ["metric", "value"]:
        for at, name, value in rows:
            out.setdefault(name, []).append((at, _number(value)))
        return out
    for i, name in enumerate(columns[1:], start=1):
        out[name] = [(r[0], _number(r[i])) for r in rows]
    return out


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 9)


def _rounded(series: Series) -> Series:
    return {name: [(at, _number(v)) for at, v in points] for name, points in series.items()}


def test_every_sql_query_is_checked() -> None:
    everything = set(sql_targets())
    assert len(everything) == 7, sorted(everything)
    assert set(WIDE_FIGURES) == everything, f"no figures for {sorted(everything - set(WIDE_FIGURES))}"
    assert set(NARROW_FIGURES) == everything


@pytest.mark.parametrize("key", sorted(sql_targets()), ids=lambda k: f"{k[0]}/{k[1]}/{k[2]}")
@pytest.mark.parametrize(("span", "figures"), [(WIDE, WIDE_FIGURES), (NARROW, NARROW_FIGURES)], ids=["wide", "narrow"])
def test_sql_panel_shows_the_figures_worked_out_by_hand(
    engine: sa.Engine, key: Key, span: tuple[datetime, datetime], figures: dict[Key, Series]
) -> None:
    target = sql_targets()[key]
    assert target["format"] == "time_series"
    sql = expand_sql(target["rawSql"], time_from=span[0], time_to=span[1], variables=VARIABLES)
    columns, rows = run(engine, sql)
    assert rows, f"{key}: no rows for\n{sql}"
    assert as_series(columns, rows) == _rounded(figures[key]), f"{key}\n{sql}"


def test_the_history_holds_what_the_figures_leave_out(engine: sa.Engine) -> None:
    """The rows the queries must pass over are there: fine snapshots, another framework version, a score
    replaced on its day, and a day outside the ranges (so that a query not leaving them out would fail)."""
    with engine.connect() as conn:
        by_kind = "SELECT resolution || ' ' || framework_version, count(*) FROM score_snapshots GROUP BY 1"
        counts = {str(kind): int(n) for kind, n in conn.execute(sa.text(by_kind))}
        day = "SELECT \"index\" FROM score_snapshots WHERE region_code = '32.73' AND day = '2025-02-15'"
        bandung_15 = conn.execute(sa.text(day)).scalar_one()
    # 8 closing snapshots of this version (two scores on 15 February make one), 1 of 2025.1; fine ones from
    # 30 January (the retention at WRITTEN_AT): Bandung 31 Jan, 15 Feb x2, Makassar 27 Feb, Jayapura 31 Jan.
    assert counts == {f"day {FW.version}": 8, "day 2025.1": 1, f"fine {FW.version}": 5, "fine 2025.1": 1}
    assert bandung_15 == 3.1
