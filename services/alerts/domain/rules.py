"""What each alert kind looks at, with separate enter and exit thresholds (docs/alerts.md).

Pure: a RegionScore, the region's plan and its recent history in; one Observation per (target,
kind) out. An Observation says whether the condition is met by the enter threshold (``enter``),
whether it still holds by the exit threshold (``hold``), and the figures that explain it. Between
the two thresholds an inactive alert does not start and an active one does not end: hysteresis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schemas.alerts import AlertKind, Driver, Severity
from schemas.framework import Framework
from schemas.masterplan import INDEX_TARGET, Masterplan, expected_on, last_milestone, next_milestone
from schemas.scores import RegionScore, ScoreStatus
from schemas.timezones import local_day, local_midnight


@dataclass(frozen=True)
class AlertRules:
    """Thresholds on the 0-5 scale and times; defaults suit a yearly plan watched live."""

    behind_enter: float = 0.25  # below the path by more than this starts behind_trajectory
    behind_exit: float = 0.10  # ... and it ends once the gap is below this
    missed_enter: float = 0.05
    missed_exit: float = 0.0
    risk_enter: float = 0.25  # projected shortfall at the next milestone
    risk_exit: float = 0.10
    drop_enter: float = 0.5  # fall from the highest value within drop_window
    drop_exit: float = 0.25
    stale_exit_margin: float = 0.05  # coverage must climb this far above the minimum to end data_stale
    critical_gap: float = 1.0
    warning_gap: float = 0.5
    band_exit_margin: float = 0.1  # a firing alert moves down a severity band only this far below its threshold
    pending_for: dt.timedelta = dt.timedelta(minutes=10)
    lookback: dt.timedelta = dt.timedelta(days=30)
    drop_window: dt.timedelta = dt.timedelta(days=7)
    sample_every: dt.timedelta = dt.timedelta(hours=1)
    min_trend_points: int = 3
    max_extrapolation: float = 6.0  # project a trend at most this many times the span it was seen over

    def severity(self, gap: float) -> Severity:
        if gap >= self.critical_gap:
            return Severity.CRITICAL
        if gap >= self.warning_gap:
            return Severity.WARNING
        return Severity.INFO

    def held_severity(self, gap: float) -> Severity:
        """The band a firing alert keeps at ``gap``: the thresholds lowered by ``band_exit_margin``."""
        return self.severity(gap + self.band_exit_margin)


@dataclass(frozen=True)
class Observation:
    kind: AlertKind
    target: str
    enter: bool
    hold: bool
    severity: Severity
    current: float | None
    expected: float | None
    gap: float | None
    milestone_due: dt.date | None
    summary: str
    #: The lowest band a firing alert keeps (hysteresis between bands); None: the same as ``severity``.
    severity_held: Severity | None = None


def target_value(score: RegionScore, target: str) -> tuple[float | None, float, bool]:
    """(score, coverage, ok) of the index or of one dimension."""
    if target == INDEX_TARGET:
        return score.index, score.coverage, score.status is ScoreStatus.OK
    for d in score.dimensions:
        if d.dimension_id == target:
            return d.score, d.coverage, d.status is ScoreStatus.OK
    return None, 0.0, False


def trend_slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope (score points per second) of (unix time, value) points; None if flat in time."""
    n = len(points)
    if n < 2:
        return None
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in points) / den


def observe(
    score: RegionScore,
    plan: Masterplan | None,
    target: str,
    history: list[tuple[float, float]],
    framework: Framework,
    rules: AlertRules,
) -> list[Observation]:
    """Every kind's observation of one target (the index or a dimension) at ``score.evaluated_at``.

    ``history`` holds earlier (unix time, value) samples of the target, oldest first. A kind that
    cannot be judged (no value, no plan, too little history) gives no observation: its alert stays
    as it is.
    """
    now = score.evaluated_at
    day = local_day(now, score.region_code)  # a due date is a day in the region's own zone
    current, coverage, ok = target_value(score, target)
    out: list[Observation] = []
    minimum = framework.minimum_coverage

    stale_gap = minimum - coverage
    # "Dropped below": a target that never had enough data (a new feed, a cold start) is not stale.
    had_data = bool(history)
    out.append(Observation(
        AlertKind.DATA_STALE, target, enter=not ok and had_data,
        hold=coverage < minimum + rules.stale_exit_margin or not ok,
        severity=Severity.CRITICAL if coverage < minimum / 2 else Severity.WARNING,
        current=coverage, expected=minimum, gap=stale_gap, milestone_due=None,
        summary=f"{target}: coverage {coverage:.0%} is below the minimum {minimum:.0%}",
        severity_held=Severity.CRITICAL if coverage < minimum / 2 + rules.stale_exit_margin else Severity.WARNING,
    ))  # fmt: skip
    if current is None or not ok:
        return out

    t_now = now.timestamp()
    if plan is not None:
        expected = expected_on(plan, target, day)
        if expected is not None:
            gap = expected - current
            out.append(Observation(
                AlertKind.BEHIND_TRAJECTORY, target, enter=gap > rules.behind_enter, hold=gap > rules.behind_exit,
                severity=rules.severity(gap), current=current, expected=expected, gap=gap,
                milestone_due=_due(next_milestone(plan, target, day)),
                summary=f"{target}: {current:.2f} is {gap:.2f} below the path ({expected:.2f} expected today)",
                severity_held=rules.held_severity(gap),
            ))  # fmt: skip
        passed = last_milestone(plan, target, day)
        if passed is not None:
            goal = passed.targets[target]
            gap = goal - current
            out.append(Observation(
                AlertKind.MILESTONE_MISSED, target, enter=gap > rules.missed_enter, hold=gap > rules.missed_exit,
                severity=Severity.CRITICAL if gap >= rules.warning_gap else Severity.WARNING,
                current=current, expected=goal, gap=gap, milestone_due=passed.due,
                summary=f"{target}: the milestone of {passed.due} asked {goal:.2f}; the score is {current:.2f}",
                severity_held=Severity.CRITICAL if gap + rules.band_exit_margin >= rules.warning_gap
                else Severity.WARNING,
            ))  # fmt: skip
        upcoming = next_milestone(plan, target, day)
        recent = [(t, v) for t, v in history if t >= t_now - rules.lookback.total_seconds()] + [(t_now, current)]
        slope = trend_slope(recent) if len(recent) >= rules.min_trend_points else None
        due_ts = local_midnight(upcoming.due, score.region_code).timestamp() if upcoming else t_now
        span = t_now - recent[0][0]
        if upcoming is not None and slope is not None and due_ts - t_now <= rules.max_extrapolation * span:
            projected = current + slope * (due_ts - t_now)
            goal = upcoming.targets[target]
            short = goal - projected
            out.append(Observation(
                AlertKind.AT_RISK, target, enter=short > rules.risk_enter, hold=short > rules.risk_exit,
                severity=rules.severity(short), current=current, expected=goal, gap=short, milestone_due=upcoming.due,
                summary=f"{target}: the trend projects {projected:.2f} by {upcoming.due}, short of {goal:.2f}",
                severity_held=rules.held_severity(short),
            ))  # fmt: skip

    window = [v for t, v in history if t >= t_now - rules.drop_window.total_seconds()]
    if window:
        peak = max(window)
        drop = peak - current
        out.append(Observation(
            AlertKind.SCORE_DROP, target, enter=drop >= rules.drop_enter, hold=drop >= rules.drop_exit,
            severity=rules.severity(drop), current=current, expected=peak, gap=drop, milestone_due=None,
            summary=f"{target}: fell {drop:.2f} from {peak:.2f} within {_human(rules.drop_window)}",
            severity_held=rules.held_severity(drop),
        ))  # fmt: skip
    return out


def _due(m: object) -> dt.date | None:
    return getattr(m, "due", None)


def _human(d: dt.timedelta) -> str:
    s = int(d.total_seconds())
    if s % 86400 == 0:
        return f"{s // 86400} d"
    if s % 3600 == 0:
        return f"{s // 3600} h"
    return f"{s // 60} min" if s % 60 == 0 else f"{s} s"


def drivers(score: RegionScore, target: str, framework: Framework, n: int = 3) -> list[Driver]:
    """The fresh indicators whose rise to full marks would lift the target most.

    ``pull`` = (5 - indicator score) x the indicator's share of the target: its weight among the
    fresh indicators of its element, times the element's weight among the scored elements of its
    dimension (times the dimension's weight among scored dimensions, for the index).
    """
    dims_ok = {d.dimension_id: d for d in score.dimensions if d.score is not None}
    el_ok = {e.element_id for d in score.dimensions for e in d.elements if e.score is not None}
    fresh = [i for i in score.indicators if i.fresh and i.score is not None and i.element in el_ok]
    w_el_fresh: dict[str, float] = {}
    for i in fresh:
        w_el_fresh[i.element] = w_el_fresh.get(i.element, 0.0) + i.weight
    dim_w = {d.id: d.weight for d in framework.dimensions if d.id in dims_ok}
    el_w = {e.id: e.weight for d in framework.dimensions for e in d.elements if e.id in el_ok}
    dim_el_w: dict[str, float] = {}
    for d in framework.dimensions:
        dim_el_w[d.id] = sum(e.weight for e in d.elements if e.id in el_ok)
    total_dim_w = sum(dim_w.values())
    out = []
    for i in fresh:
        if target != INDEX_TARGET and i.dimension != target:
            continue
        if i.dimension not in dims_ok:
            continue
        share = i.weight / w_el_fresh[i.element] * el_w[i.element] / dim_el_w[i.dimension]
        if target == INDEX_TARGET:
            share *= dim_w[i.dimension] / total_dim_w
        assert i.score is not None
        out.append(Driver(indicator_id=i.indicator_id, score=i.score, weight=i.weight, pull=(5.0 - i.score) * share))
    out.sort(key=lambda d: (-d.pull, d.indicator_id))
    return out[:n]


def remedy(obs: Observation, top: list[Driver]) -> str:
    """What it would take to get back on the path, in one sentence."""
    if obs.kind is AlertKind.DATA_STALE:
        return f"Restore the {obs.target} feeds: coverage must reach {obs.expected:.0%} of the indicator weight."
    if obs.gap is None or obs.gap <= 0:
        return ""
    levers = ", ".join(f"{d.indicator_id} (+{d.pull:.2f} at full marks)" for d in top)
    what = {
        AlertKind.BEHIND_TRAJECTORY: "to return to the path",
        AlertKind.MILESTONE_MISSED: "to meet the passed milestone",
        AlertKind.AT_RISK: "on the projected trend to meet the next milestone",
        AlertKind.SCORE_DROP: "to recover the fall",
    }[obs.kind]
    text = f"Raise {obs.target} by {obs.gap:.2f} points {what}"
    return text + (f"; the largest levers: {levers}." if levers else ".")
