"""What the history API answers, worked out from stored rows: a region's series by period against its
masterplan path, a ranking as of a day, and the programme's progress by period. Pure: rows in, views out.

- **Closing snapshot**: a region's last score of its local day (the store keeps one per day for ever).
  A period's value is the closing snapshot of its last day with one (on or before ``until``).
- **As of a day**: a region's latest closing snapshot on or before it (``as_of`` says which day, so a
  region that stopped reporting shows its last known score, dated).
- **Masterplan path**: a plan's value for a target on a day, linear between the milestones that set it
  (schemas/masterplan.py ``expected_on``), under the plan in force that day: the latest version first
  seen on or before it, else the earliest version known (a plan loaded after the history it judges).
- **Behind plan**: the index is below the path's index on that day. ``gap`` = expected - index (>0: behind).
- **Rank**: competition ranking by index, highest first (1, 2, 2, 4); regions without an index are unranked.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from statistics import fmean
from typing import Any

from schemas.masterplan import INDEX_TARGET, Masterplan
from services.history.domain.periods import Period


@dataclass(frozen=True, slots=True)
class Closing:
    """A closing snapshot as read back: one region, one local day."""

    region_code: str
    day: date
    at: datetime
    index: float | None
    level: int | None
    level_name: str | None
    coverage: float
    status: str
    dimensions: Mapping[str, float | None]
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class FrameworkRange:
    framework: str  # 'id@version'
    first_day: date
    last_day: date
    regions: int


@dataclass(frozen=True, slots=True)
class Transition:
    """One stored AlertEvent (``drivers``: its Driver objects as published, ``remedy`` "" when it has none)."""

    transition_id: str
    alert_id: str
    kind: str
    target: str
    state: str
    severity: str
    escalation: str
    at: datetime
    current: float | None
    expected: float | None
    gap: float | None
    milestone_due: str | None
    summary: str
    region_code: str = ""
    drivers: tuple[Mapping[str, Any], ...] = ()
    remedy: str = ""


#: An alert is open while its newest transition is one of these (``resolved`` closes it; ``pending`` has not fired).
OPEN_STATES = ("firing", "acknowledged")
#: Severities, most severe first (schemas/alerts.py Severity).
SEVERITY_ORDER = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """An alert (one episode, one ``alert_id``) as of its newest transition.

    ``fired_at``: its first ``firing`` transition (None: it never fired, e.g. pending and cancelled);
    ``acknowledged``: it is acknowledged now, or was at some point of the episode (a firing transition
    after an acknowledgement, such as a move to another severity band, does not undo it).
    """

    latest: Transition
    fired_at: datetime | None
    acknowledged: bool

    @property
    def open(self) -> bool:
        return self.latest.state in OPEN_STATES


def summarise(transitions: Sequence[Transition]) -> AlertSummary:
    """An alert's summary from all its transitions, newest first."""
    fired = [t.at for t in transitions if t.state == "firing"]
    return AlertSummary(transitions[0], min(fired) if fired else None,
                        any(t.state == "acknowledged" for t in transitions))  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A version of a region's plan as stored: its hash, when it was first seen, the Masterplan as published."""

    region_code: str
    plan_hash: str
    received_at: datetime
    payload: Mapping[str, Any]


class PlanBook:
    """Every known version of every region's plan, by the time it was first seen."""

    def __init__(self, versions: Iterable[tuple[str, datetime, Masterplan]] = ()) -> None:
        self._seen: dict[str, list[datetime]] = defaultdict(list)
        self._days: dict[str, list[date]] = defaultdict(list)
        self._plans: dict[str, list[PlanPath]] = defaultdict(list)
        self._shared: dict[tuple[object, ...], PlanPath] = {}
        for region, received, plan in versions:
            self.add(region, received, plan)

    def add(self, region: str, received: datetime, plan: Masterplan) -> None:
        at = bisect.bisect_right(self._seen[region], received)
        self._seen[region].insert(at, received)
        self._days[region].insert(at, received.date())
        key = PlanPath.key(plan)
        path = self._shared.get(key)
        if path is None:
            path = self._shared[key] = PlanPath(plan)
        self._plans[region].insert(at, path)

    def path_on(self, region: str, day: date) -> PlanPath | None:
        """The path of the version in force on ``day``: the latest first seen on or before it, else the earliest
        (one path per distinct plan, shared by the regions that have it)."""
        plans = self._plans.get(region)
        if not plans:
            return None
        at = bisect.bisect_right(self._days[region], day)
        return plans[at - 1] if at else plans[0]


class PlanPath:
    """A plan's path for every target it sets, its milestone points sorted once: the value on a day is
    ``schemas.masterplan.expected_on``'s (None before the target's first milestone, linear between
    milestones, the last target after the last), at the cost of a bisection."""

    #: Days whose values are kept (a 5-year daily series asks for 1,827; one path serves many regions).
    CACHED_DAYS = 8192

    def __init__(self, plan: Masterplan) -> None:
        self.plan = plan
        targets = sorted({t for m in plan.milestones for t in m.targets})
        self.points = {t: [(m.due, m.targets[t]) for m in plan.milestones if t in m.targets] for t in targets}
        self.dues = {t: [d for d, _ in pts] for t, pts in self.points.items()}
        self._on: dict[date, dict[str, float]] = {}

    @staticmethod
    def key(plan: Masterplan) -> tuple[object, ...]:
        """What the path depends on: plans with the same key (the national default of 514 regions) share one."""
        return (plan.plan_id, tuple((m.due, tuple(sorted(m.targets.items()))) for m in plan.milestones))

    def value(self, target: str, day: date) -> float | None:
        points = self.points.get(target)
        if not points or day < points[0][0]:
            return None
        at = bisect.bisect_right(self.dues[target], day)
        if at == len(points):
            return points[-1][1]
        (d0, v0), (d1, v1) = points[at - 1], points[at]
        return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days

    def on(self, day: date) -> dict[str, float]:
        """The path on ``day`` for each target whose path has started, rounded to 6 places (do not change it:
        it is shared)."""
        known = self._on.get(day)
        if known is None:
            if len(self._on) >= self.CACHED_DAYS:
                self._on.clear()
            values = {t: self.value(t, day) for t in self.points}
            known = self._on[day] = {t: round(v, 6) for t, v in values.items() if v is not None}
        return known


def gap_of(expected: float | None, index: float | None) -> float | None:
    return None if expected is None or index is None else round(expected - index, 6)


# ----------------------------------------------------------------------------------------- series


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    period: Period
    closing: Closing | None
    days: int  # closing snapshots in the period (within the query)
    simulated_days: int
    index_mean: float | None
    index_min: float | None
    index_max: float | None
    expected: Mapping[str, float]  # the path on ``period.until``
    plan_id: str | None

    @property
    def gap(self) -> float | None:
        return gap_of(self.expected.get(INDEX_TARGET), self.closing.index if self.closing else None)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A period's days: its closing snapshot, how many days have one (and are simulated), their indexes."""

    closing: Closing
    days: int
    simulated_days: int
    index_mean: float | None
    index_min: float | None
    index_max: float | None


def daily(closings: Iterable[Closing]) -> dict[date, Aggregate]:
    """Each day as its own period."""
    return {c.day: Aggregate(c, 1, int(c.simulated), c.index, c.index, c.index) for c in closings}


def series(
    aggregates: Mapping[date, Aggregate], periods: Iterable[Period], plans: PlanBook, region: str
) -> list[SeriesPoint]:
    """One point per period (``aggregates`` keyed by the period's first day): its closing snapshot, the
    spread of its days' indexes, and the path on its last day in the query."""
    out = []
    for p in periods:
        agg = aggregates.get(p.first)
        path = plans.path_on(region, p.until)
        mean = agg.index_mean if agg else None
        out.append(SeriesPoint(
            period=p, closing=agg.closing if agg else None, days=agg.days if agg else 0,
            simulated_days=agg.simulated_days if agg else 0, index_mean=None if mean is None else round(mean, 6),
            index_min=agg.index_min if agg else None, index_max=agg.index_max if agg else None,
            expected=path.on(p.until) if path else {}, plan_id=path.plan.plan_id if path else None,
        ))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------- ranking


@dataclass(frozen=True, slots=True)
class Ranked:
    closing: Closing
    rank: int | None  # among the regions listed (after the filters)
    national_rank: int | None  # among every region with an index on that day
    expected_index: float | None
    plan_id: str | None

    @property
    def gap(self) -> float | None:
        return gap_of(self.expected_index, self.closing.index)

    @property
    def behind_plan(self) -> bool | None:
        gap = self.gap
        return None if gap is None else gap > 0


def competition_ranks(values: Sequence[float | None]) -> list[int | None]:
    """Rank of each value, highest first; equal values share a rank and the next rank skips (1, 2, 2, 4)."""
    present = sorted((v for v in values if v is not None), reverse=True)
    first: dict[float, int] = {}
    for n, v in enumerate(present, start=1):
        first.setdefault(v, n)
    return [None if v is None else first[v] for v in values]


def ranking(closings: Sequence[Closing], on: date, plans: PlanBook, keep: set[str] | None = None) -> list[Ranked]:
    """Every region's standing as of ``on``, best first (unranked last, by code); ``keep``: the filter."""
    national = dict(zip([c.region_code for c in closings], competition_ranks([c.index for c in closings]), strict=True))
    kept = [c for c in closings if keep is None or c.region_code in keep]
    ranks = competition_ranks([c.index for c in kept])
    out = []
    for c, rank in zip(kept, ranks, strict=True):
        path = plans.path_on(c.region_code, on)
        expected = path.value(INDEX_TARGET, on) if path else None
        out.append(Ranked(c, rank, national[c.region_code], None if expected is None else round(expected, 6),
                          path.plan.plan_id if path else None))  # fmt: skip
    out.sort(key=lambda r: (r.rank is None, r.rank or 0, r.closing.region_code))
    return out


# --------------------------------------------------------------------------------------- progress


@dataclass(frozen=True, slots=True)
class Progress:
    period: Period
    regions_scored: int  # regions with a closing snapshot on or before ``until``
    mean_index: float | None
    levels: Mapping[int, int]  # level -> regions
    behind_plan: int
    on_or_above_plan: int
    without_plan: int
    simulated: int  # regions whose snapshot as of ``until`` is simulated
    stale: int  # regions whose latest snapshot is from before the period


def progress(period: Period, closings: Sequence[Closing], plans: PlanBook, levels: Sequence[int]) -> Progress:
    """The programme on ``period.until``, from every region's closing snapshot as of that day."""
    counts = dict.fromkeys(levels, 0)
    behind = ahead = none = 0
    for c in closings:
        if c.level is not None:
            counts[c.level] = counts.get(c.level, 0) + 1
        path = plans.path_on(c.region_code, period.until)
        expected = path.value(INDEX_TARGET, period.until) if path else None
        gap = gap_of(expected, c.index)
        if gap is None:
            none += 1
        elif gap > 0:
            behind += 1
        else:
            ahead += 1
    indexes = [c.index for c in closings if c.index is not None]
    return Progress(
        period=period, regions_scored=len(closings), mean_index=round(fmean(indexes), 6) if indexes else None,
        levels=counts, behind_plan=behind, on_or_above_plan=ahead, without_plan=none,
        simulated=sum(c.simulated for c in closings), stale=sum(c.day < period.since for c in closings),
    )  # fmt: skip
