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

from schemas.masterplan import INDEX_TARGET, Masterplan, expected_on
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


class PlanBook:
    """Every known version of every region's plan, by the time it was first seen."""

    def __init__(self, versions: Iterable[tuple[str, datetime, Masterplan]] = ()) -> None:
        self._seen: dict[str, list[datetime]] = defaultdict(list)
        self._plans: dict[str, list[Masterplan]] = defaultdict(list)
        for region, received, plan in sorted(versions, key=lambda v: (v[0], v[1])):
            self.add(region, received, plan)

    def add(self, region: str, received: datetime, plan: Masterplan) -> None:
        at = bisect.bisect_right(self._seen[region], received)
        self._seen[region].insert(at, received)
        self._plans[region].insert(at, plan)

    def __contains__(self, region: object) -> bool:
        return region in self._plans

    def __len__(self) -> int:
        return sum(len(v) for v in self._plans.values())

    def plan_on(self, region: str, day: date) -> Masterplan | None:
        """The version in force on ``day``: the latest first seen on or before it, else the earliest."""
        plans = self._plans.get(region)
        if not plans:
            return None
        seen = [s.date() for s in self._seen[region]]
        at = bisect.bisect_right(seen, day)
        return plans[at - 1] if at else plans[0]


def path_on(plan: Masterplan | None, day: date) -> dict[str, float]:
    """The plan's path on ``day`` for each target it sets (those whose path has started)."""
    if plan is None:
        return {}
    targets = sorted({t for m in plan.milestones for t in m.targets})
    out = {t: expected_on(plan, t, day) for t in targets}
    return {t: round(v, 6) for t, v in out.items() if v is not None}


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


def series(days: Sequence[Closing], periods: Iterable[Period], plans: PlanBook, region: str) -> list[SeriesPoint]:
    """One point per period: its closing snapshot, the spread of its days' indexes, the path on its last day."""
    ordered = sorted(days, key=lambda c: c.day)
    keys = [c.day for c in ordered]
    out = []
    for p in periods:
        inside = ordered[bisect.bisect_left(keys, p.since) : bisect.bisect_right(keys, p.until)]
        indexes = [c.index for c in inside if c.index is not None]
        plan = plans.plan_on(region, p.until)
        out.append(SeriesPoint(
            period=p, closing=inside[-1] if inside else None, days=len(inside),
            simulated_days=sum(c.simulated for c in inside),
            index_mean=round(fmean(indexes), 6) if indexes else None,
            index_min=min(indexes) if indexes else None, index_max=max(indexes) if indexes else None,
            expected=path_on(plan, p.until), plan_id=plan.plan_id if plan else None,
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
        plan = plans.plan_on(c.region_code, on)
        expected = expected_on(plan, INDEX_TARGET, on) if plan else None
        out.append(Ranked(c, rank, national[c.region_code], None if expected is None else round(expected, 6),
                          plan.plan_id if plan else None))  # fmt: skip
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
        plan = plans.plan_on(c.region_code, period.until)
        expected = expected_on(plan, INDEX_TARGET, period.until) if plan else None
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
