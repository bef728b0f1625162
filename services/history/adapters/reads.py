"""The history store's reads (SQLAlchemy 2 Core, read-only): closing snapshots of a region, the latest
closing snapshot of every region on or before a day, alert transitions and plan versions.

Each query is one statement on an index of migrations/versions: a region's days on
``uq_score_snapshots_region_day``; "every region as of a day" is one index seek per region (a LATERAL
join over the region codes, ``ix_score_snapshots_framework_day``), not a scan of the years before it.
The open alerts are each alert's newest transition read from ``ix_alert_transitions_alert_latest`` alone
(an index-only scan), the stored events fetched for the open ones only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from services.history.adapters.postgres import translated
from services.history.domain.views import (
    OPEN_STATES,
    SEVERITY_ORDER,
    Aggregate,
    AlertSummary,
    Closing,
    FrameworkRange,
    PlanVersion,
    Transition,
)

_SNAPSHOT = "day, at, index, level, level_name, coverage, status, dimension_scores, simulated"
#: A region's closing snapshots grouped by calendar period (date_trunc: ISO weeks start on Monday): each
#: period's last day with its spread, one row per period.
REGION_PERIODS = sa.text(
    f"SELECT DISTINCT ON (p) p, region_code, {_SNAPSHOT}, count(*) OVER w AS days, "
    "count(*) FILTER (WHERE simulated) OVER w AS simulated_days, avg(index) OVER w AS index_mean, "
    "min(index) OVER w AS index_min, max(index) OVER w AS index_max "
    f"FROM (SELECT region_code, {_SNAPSHOT}, CAST(date_trunc(:unit, day) AS date) AS p FROM score_snapshots "
    "WHERE resolution = 'day' AND region_code = :region AND framework_id = :fid AND framework_version = :fver "
    "AND day BETWEEN :start AND :end) AS s WINDOW w AS (PARTITION BY p) ORDER BY p, day DESC"
)

REGION_DAYS = sa.text(
    f"SELECT region_code, {_SNAPSHOT} FROM score_snapshots "
    "WHERE resolution = 'day' AND region_code = :region AND framework_id = :fid AND framework_version = :fver "
    "AND day BETWEEN :start AND :end ORDER BY day"
)
LATEST_ON = sa.text(
    f"SELECT r.code AS region_code, s.* FROM unnest(CAST(:codes AS text[])) AS r(code) "
    f"CROSS JOIN LATERAL (SELECT {_SNAPSHOT} FROM score_snapshots "
    "WHERE resolution = 'day' AND framework_id = :fid AND framework_version = :fver AND region_code = r.code "
    "AND day <= :on ORDER BY day DESC LIMIT 1) AS s"
)
#: The first and last day with a closing snapshot (two seeks on ``ix_score_snapshots_day``).
DAY_SPAN = sa.text("SELECT min(day) AS first, max(day) AS last FROM score_snapshots WHERE resolution = 'day'")
FRAMEWORKS = sa.text(
    "SELECT framework_id, framework_version, min(day) AS first_day, max(day) AS last_day, "
    "count(DISTINCT region_code) AS regions FROM score_snapshots WHERE resolution = 'day' "
    "GROUP BY framework_id, framework_version ORDER BY framework_id, framework_version"
)
_TRANSITION = "transition_id, alert_id, region_code, kind, target, state, severity, escalation, at, payload"
TRANSITIONS = sa.text(
    f"SELECT {_TRANSITION} "
    "FROM alert_transitions WHERE region_code = :region AND at >= :since AND at < :before "
    "AND (CAST(:state AS text) IS NULL OR state = :state) ORDER BY at DESC, transition_id LIMIT :limit"
)
ALERT = sa.text(f"SELECT {_TRANSITION} FROM alert_transitions WHERE alert_id = :alert ORDER BY at DESC, transition_id")
#: Each alert's newest transition (DISTINCT ON, in the index's order), kept when it is open; the stored event
#: of those only, with when the alert first fired and whether it was acknowledged. Most severe first (the
#: order of schemas/alerts.py Severity), then the widest gap, then by region.
OPEN_ALERTS = sa.text(
    f"SELECT {', '.join('t.' + c for c in _TRANSITION.split(', '))}, e.fired_at, e.acknowledged "
    "FROM (SELECT DISTINCT ON (alert_id) alert_id, transition_id, state FROM alert_transitions "
    "WHERE (CAST(:province AS text) IS NULL OR province_code = :province) "
    "AND (CAST(:region AS text) IS NULL OR region_code = :region) "
    "ORDER BY alert_id, at DESC, transition_id) AS l "
    "JOIN alert_transitions AS t ON t.transition_id = l.transition_id "
    "CROSS JOIN LATERAL (SELECT min(at) FILTER (WHERE state = 'firing') AS fired_at, "
    "coalesce(bool_or(state = 'acknowledged'), false) AS acknowledged "
    "FROM alert_transitions WHERE alert_id = l.alert_id) AS e "
    f"WHERE l.state IN ({', '.join(repr(s) for s in OPEN_STATES)}) "
    f"ORDER BY CASE t.severity {' '.join(f'WHEN {s!r} THEN {n}' for n, s in enumerate(SEVERITY_ORDER))} "
    f"ELSE {len(SEVERITY_ORDER)} END, "
    "CAST(t.payload ->> 'gap' AS double precision) DESC NULLS LAST, t.region_code, t.alert_id LIMIT :limit"
)
PLANS = sa.text(
    "SELECT region_code, plan_hash, received_at, payload FROM plan_versions "
    "WHERE CAST(:since AS timestamptz) IS NULL OR received_at >= :since ORDER BY region_code, received_at"
)


def _closing(row: sa.Row[Any]) -> Closing:
    m = row._mapping  # (``row.index`` would be the tuple's method)
    return Closing(
        region_code=m["region_code"], day=m["day"], at=m["at"], index=m["index"], level=m["level"],
        level_name=m["level_name"], coverage=m["coverage"], status=m["status"],
        dimensions=m["dimension_scores"] or {}, simulated=bool(m["simulated"]),
    )  # fmt: skip


def _transition(r: sa.Row[Any]) -> Transition:
    p = r.payload
    return Transition(
        transition_id=r.transition_id, alert_id=r.alert_id, kind=r.kind, target=r.target, state=r.state,
        severity=r.severity, escalation=r.escalation, at=r.at, current=p.get("current"), expected=p.get("expected"),
        gap=p.get("gap"), milestone_due=p.get("milestone_due"), summary=p.get("summary", ""),
        region_code=r.region_code, drivers=tuple(p.get("drivers") or ()), remedy=p.get("remedy") or "",
    )  # fmt: skip


class PostgresReads:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def region_days(self, region: str, framework: tuple[str, str], start: date, end: date) -> list[Closing]:
        """The region's closing snapshots of the days in [start, end], in day order."""
        params = {"region": region, "fid": framework[0], "fver": framework[1], "start": start, "end": end}
        with translated(), self.engine.connect() as conn:
            return [_closing(r) for r in conn.execute(REGION_DAYS, params)]

    def region_periods(
        self, region: str, framework: tuple[str, str], start: date, end: date, unit: str
    ) -> dict[date, Aggregate]:
        """Per calendar period (``unit``: week, month or year; keyed by its first day) of [start, end], its
        closing snapshot, days with one (and how many simulated) and the mean, lowest and highest index."""
        params = {"region": region, "fid": framework[0], "fver": framework[1], "start": start, "end": end,
                  "unit": unit}  # fmt: skip
        with translated(), self.engine.connect() as conn:
            return {
                r.p: Aggregate(_closing(r), int(r.days), int(r.simulated_days), r.index_mean, r.index_min, r.index_max)
                for r in conn.execute(REGION_PERIODS, params)
            }

    def latest_on(self, codes: Sequence[str], framework: tuple[str, str], on: date) -> list[Closing]:
        """For each region of ``codes`` that has one, its latest closing snapshot on or before ``on``."""
        params = {"codes": list(codes), "fid": framework[0], "fver": framework[1], "on": on}
        with translated(), self.engine.connect() as conn:
            return [_closing(r) for r in conn.execute(LATEST_ON, params)]

    def day_span(self) -> tuple[date, date] | None:
        """The first and the last day with a closing snapshot, of any region and framework (None: no days)."""
        with translated(), self.engine.connect() as conn:
            row = conn.execute(DAY_SPAN).one()
        return None if row.first is None else (row.first, row.last)

    def frameworks(self) -> list[FrameworkRange]:
        with translated(), self.engine.connect() as conn:
            return [
                FrameworkRange(f"{r.framework_id}@{r.framework_version}", r.first_day, r.last_day, int(r.regions))
                for r in conn.execute(FRAMEWORKS)
            ]

    def transitions(
        self, region: str, since: datetime, before: datetime, state: str | None, limit: int
    ) -> list[Transition]:
        params = {"region": region, "since": since, "before": before, "state": state, "limit": limit}
        with translated(), self.engine.connect() as conn:
            return [_transition(r) for r in conn.execute(TRANSITIONS, params)]

    def alert(self, alert_id: str) -> list[Transition]:
        """Every transition of one alert, newest first ([]: no such alert)."""
        with translated(), self.engine.connect() as conn:
            return [_transition(r) for r in conn.execute(ALERT, {"alert": alert_id})]

    def open_alerts(self, province: str | None, region: str | None, limit: int) -> list[AlertSummary]:
        """The alerts open now (newest transition firing or acknowledged), in ``province`` and ``region`` when
        given, most severe first, then by gap (widest first) and region; at most ``limit``."""
        params = {"province": province, "region": region, "limit": limit}
        with translated(), self.engine.connect() as conn:
            return [AlertSummary(_transition(r), r.fired_at, bool(r.acknowledged))
                    for r in conn.execute(OPEN_ALERTS, params)]  # fmt: skip

    def plans(self, since: datetime | None = None) -> list[PlanVersion]:
        """Plan versions first seen at or after ``since`` (at: versions with the same time may be committed
        in two transactions; the caller skips those it has)."""
        with translated(), self.engine.connect() as conn:
            return [PlanVersion(r.region_code, r.plan_hash, r.received_at, r.payload)
                    for r in conn.execute(PLANS, {"since": since})]  # fmt: skip

    def ping(self) -> None:
        with translated(), self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
