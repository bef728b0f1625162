"""The history API's bodies (pydantic v2): what /openapi.json documents and every answer is built from.

The classes document the bodies (and the command line reads its answers back into them); the answers are
built by the functions below as plain JSON-ready values and written with orjson: a 5-year daily series is
1,827 points, and building pydantic objects for them cost more than reading them from the database.
schemathesis checks every answer against the document (tests/integration/test_history_api.py).

Scores are on the programme's 0-5 scale (PP 59/2022 maturity index, dimensions likewise); ``level`` is the
framework's level 1-5 for the index; ``coverage`` the share (0-1) of the framework's weight with data.
Days are the region's local calendar days (WIB, WITA or WIT).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.history.domain.views import AlertSummary, Closing, Progress, Ranked, SeriesPoint, Transition

Score = Annotated[float, Field(ge=0, le=5)]


class Body(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorDetail(Body):
    code: str = Field(description="A stable code, e.g. unknown_region, dates_out_of_order, rate_limited.")
    message: str = Field(description="What is wrong, in English.")
    field: str | None = Field(default=None, description="The parameter at fault, if one is.")


class ErrorBody(Body):
    error: ErrorDetail


class RegionRef(Body):
    code: str = Field(examples=["32.73"])
    name: str = Field(examples=["Kota Bandung"])
    type: str = Field(description="kabupaten or kota")
    province_code: str
    province_name: str


class Snapshot(Body):
    """A closing snapshot: the region's last score of its local day."""

    day: date = Field(description="The region's local day of the snapshot.")
    at: datetime = Field(description="When it was scored (RegionScore.evaluated_at).")
    index: Score | None = Field(description="Maturity index 0-5; null: not enough data (coverage too low).")
    level: int | None = Field(ge=1, le=5)
    level_name: str | None
    coverage: float = Field(ge=0, le=1)
    status: str = Field(description="ok or insufficient_data")
    dimensions: dict[str, Score | None] = Field(description="Each dimension's score 0-5 (null: not enough data).")
    simulated: bool = Field(
        description="Made by the demo's seeding (pantau history seed-demo), not scored from events."
    )


Json = dict[str, Any]


def snapshot(c: Closing) -> Json:
    return {
        "day": c.day, "at": c.at, "index": c.index, "level": c.level, "level_name": c.level_name,
        "coverage": c.coverage, "status": c.status, "dimensions": c.dimensions, "simulated": c.simulated,
    }  # fmt: skip


class SeriesPointBody(Body):
    period: str = Field(description="2025-03-04 (day), 2025-W10 (ISO week), 2025-03 (month), 2025 (year).")
    first: date = Field(description="The calendar period's first day.")
    last: date = Field(description="The calendar period's last day.")
    since: date = Field(description="The first day of the period inside the query.")
    until: date = Field(description="The last day of the period inside the query; the path is read on this day.")
    days: int = Field(ge=0, description="Days of the period with a closing snapshot.")
    simulated_days: int = Field(ge=0, description="Of those, days made by the demo's seeding.")
    closing: Snapshot | None = Field(description="The period's value: its last closing snapshot (null: no data).")
    index_mean: Score | None = Field(description="Mean of the period's daily indexes.")
    index_min: Score | None
    index_max: Score | None
    expected: dict[str, Score] = Field(
        description="The masterplan path on 'until' for each target the plan sets ('index' and dimension ids)."
    )
    gap: float | None = Field(description="expected index - closing index; above 0: behind the path.")
    plan_id: str | None = Field(description="The plan in force on 'until' (null: no plan known for the region).")


def series_point(p: SeriesPoint) -> Json:
    d = p.period
    return {
        "period": d.label, "first": d.first, "last": d.last, "since": d.since, "until": d.until, "days": p.days,
        "simulated_days": p.simulated_days, "closing": snapshot(p.closing) if p.closing else None,
        "index_mean": p.index_mean, "index_min": p.index_min, "index_max": p.index_max, "expected": p.expected,
        "gap": p.gap, "plan_id": p.plan_id,
    }  # fmt: skip


class SeriesBody(Body):
    region: RegionRef
    framework: str = Field(description="Framework key 'id@version' the scores are under.")
    resolution: str
    start: date = Field(alias="from", description="First day of the query.")
    to: date
    points: list[SeriesPointBody]


class RankedBody(Body):
    rank: int | None = Field(description="Rank by index among the regions listed (1 = highest; ties share a rank).")
    national_rank: int | None = Field(description="Rank among every region with an index on that day.")
    region: RegionRef
    as_of: Snapshot = Field(description="The region's latest closing snapshot on or before the day asked.")
    expected_index: Score | None = Field(description="The masterplan path's index on the day asked.")
    gap: float | None = Field(description="expected_index - index; above 0: behind the path.")
    behind_plan: bool | None
    plan_id: str | None


class RankingBody(Body):
    on: date
    framework: str
    province: str | None
    type: str | None
    level: int | None
    scored: int = Field(description="Regions with a closing snapshot on or before the day, before the filters.")
    count: int = Field(description="Regions listed.")
    regions: list[RankedBody]


def ranked(r: Ranked, region: Json) -> Json:
    return {
        "rank": r.rank, "national_rank": r.national_rank, "region": region, "as_of": snapshot(r.closing),
        "expected_index": r.expected_index, "gap": r.gap, "behind_plan": r.behind_plan, "plan_id": r.plan_id,
    }  # fmt: skip


class DriverBody(Body):
    """An indicator that pulls the alert's target down (schemas/alerts.py Driver)."""

    indicator_id: str
    score: float | None = Field(description="The indicator's score (0-5; null: no data).")
    weight: float = Field(description="Its weight in the target.")
    pull: float = Field(description="Score points the target gains if this indicator reached 5.")


class TransitionBody(Body):
    transition_id: str
    alert_id: str = Field(description="Stable for the alert: its transitions share it.")
    kind: str
    target: str = Field(description="A dimension id or 'index'.")
    state: str = Field(description="pending, firing, acknowledged or resolved")
    severity: str = Field(description="info, warning or critical")
    escalation: str = Field(description="Who the transition was addressed to.")
    at: datetime
    current: float | None = Field(description="The score (0-5) at the transition.")
    expected: float | None = Field(description="The masterplan path's value (0-5) at the transition.")
    gap: float | None = Field(description="expected - current; above 0: behind.")
    milestone_due: str | None
    summary: str
    drivers: list[DriverBody] = Field(description="The indicators pulling the target down, most first ([]: none).")
    remedy: str = Field(description="What it would take to get back on the path ('': nothing said).")


def _driver(d: Any) -> Json:
    return {"indicator_id": d.get("indicator_id"), "score": d.get("score"), "weight": d.get("weight"),
            "pull": d.get("pull")}  # fmt: skip


def transition(t: Transition) -> Json:
    return {
        "transition_id": t.transition_id, "alert_id": t.alert_id, "kind": t.kind, "target": t.target,
        "state": t.state, "severity": t.severity, "escalation": t.escalation, "at": t.at, "current": t.current,
        "expected": t.expected, "gap": t.gap, "milestone_due": t.milestone_due, "summary": t.summary,
        "drivers": [_driver(d) for d in t.drivers], "remedy": t.remedy,
    }  # fmt: skip


class AlertsBody(Body):
    region: RegionRef
    start: date = Field(alias="from", description="First day of the query.")
    to: date
    count: int
    transitions: list[TransitionBody] = Field(description="Newest first.")


class AlertItem(Body):
    """An alert as of its newest transition (its figures, drivers and remedy are that transition's)."""

    alert_id: str = Field(description="Stable for one episode of the alert (see /v1/alerts/{alert_id}).")
    region: RegionRef
    kind: str = Field(description="behind_trajectory, milestone_missed, at_risk, data_stale or score_drop")
    target: str = Field(description="A dimension id or 'index'.")
    state: str = Field(description="The newest transition's: firing or acknowledged while open; resolved, pending.")
    severity: str = Field(description="info, warning or critical")
    escalation: str = Field(description="Who the newest transition was addressed to (region, province, national).")
    acknowledged: bool = Field(description="Someone acknowledged it (now or earlier in the episode).")
    fired_at: datetime | None = Field(description="When it first fired (null: it never did, e.g. pending).")
    at: datetime = Field(description="The newest transition's time.")
    current: float | None = Field(description="The score (0-5) at the newest transition.")
    expected: float | None = Field(description="The masterplan path's value (0-5) then.")
    gap: float | None = Field(description="expected - current; above 0: behind.")
    milestone_due: str | None
    summary: str
    drivers: list[DriverBody] = Field(description="The indicators pulling the target down, most first.")
    remedy: str = Field(description="What it would take to get back on the path ('': nothing said).")


def alert_item(a: AlertSummary, region: Json) -> Json:
    t = a.latest
    return {
        "alert_id": t.alert_id, "region": region, "kind": t.kind, "target": t.target, "state": t.state,
        "severity": t.severity, "escalation": t.escalation, "acknowledged": a.acknowledged, "fired_at": a.fired_at,
        "at": t.at, "current": t.current, "expected": t.expected, "gap": t.gap, "milestone_due": t.milestone_due,
        "summary": t.summary, "drivers": [_driver(d) for d in t.drivers], "remedy": t.remedy,
    }  # fmt: skip


class OpenAlertsBody(Body):
    count: int = Field(description="Alerts listed.")
    alerts: list[AlertItem] = Field(
        description="Open alerts: critical first, then warning, info; then the widest gap; then by region code."
    )


class PlanBody(Body):
    region: RegionRef
    on: date = Field(description="The day the plan is in force on.")
    plan: dict[str, Any] = Field(description="The masterplan (schemas/masterplan.py Masterplan): its milestones, "
                                 "basis (national_default or region) and programme status.")  # fmt: skip


class AlertBody(Body):
    alert_id: str
    region: RegionRef
    open: bool = Field(description="Its newest transition is firing or acknowledged (resolved closes it).")
    latest: AlertItem
    transitions: list[TransitionBody] = Field(description="Every transition of the alert, newest first.")


class ProgressPoint(Body):
    period: str
    until: date = Field(description="The day the programme is taken on (the period's last day in the query).")
    regions_scored: int = Field(description="Regions with a closing snapshot on or before 'until'.")
    mean_index: Score | None = Field(description="Mean of their indexes (0-5).")
    levels: dict[str, int] = Field(description="Regions per level ('1'..'5').")
    behind_plan: int = Field(description="Regions whose index is below their masterplan path on 'until'.")
    on_or_above_plan: int
    without_plan: int = Field(description="Regions scored with no plan known or no index.")
    simulated: int = Field(description="Regions whose snapshot as of 'until' was made by the demo's seeding.")
    stale: int = Field(description="Regions whose latest snapshot is from before the period.")
    assisted_cumulative: int | None = Field(
        description="Kab/kota assisted by the programme up to that year, as Kominfo published (null: none yet)."
    )


def progress_point(p: Progress, assisted: int | None) -> Json:
    return {
        "period": p.period.label, "until": p.period.until, "regions_scored": p.regions_scored,
        "mean_index": p.mean_index, "levels": {str(k): v for k, v in sorted(p.levels.items())},
        "behind_plan": p.behind_plan, "on_or_above_plan": p.on_or_above_plan, "without_plan": p.without_plan,
        "simulated": p.simulated, "stale": p.stale, "assisted_cumulative": assisted,
    }  # fmt: skip


class ProgrammeBody(Body):
    framework: str
    resolution: str
    start: date = Field(alias="from", description="First day of the query.")
    to: date
    regions: int = Field(description="Kab/kota in the registry.")
    masterplan_target: int = Field(description="The national goal: kab/kota with a smart-city masterplan...")
    target_year: int = Field(description="...by this year.")
    points: list[ProgressPoint]


class FrameworkBody(Body):
    framework: str
    first_day: date
    last_day: date
    regions: int


class FrameworksBody(Body):
    current: str = Field(description="The framework the platform scores under (the default of every query).")
    frameworks: list[FrameworkBody] = Field(description="Every framework version with history.")
