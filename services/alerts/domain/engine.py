"""One region's alert state, and its evaluation against each new RegionScore.

State in, state and AlertEvents out; no Kafka, faust or clock here.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from schemas.alerts import AlertEvent, AlertKind, AlertState
from schemas.common import province_of
from schemas.framework import Framework
from schemas.masterplan import INDEX_TARGET, Masterplan
from schemas.scores import RegionScore
from services.alerts.domain.lifecycle import Track, Transition, step, transition_id
from services.alerts.domain.rules import AlertRules, Observation, drivers, observe, remedy, target_value

MAX_HISTORY = 256


class RegionAlerts(BaseModel):
    """What the alerts service keeps per region: recent target values and the active alerts."""

    model_config = ConfigDict(extra="forbid")

    history: dict[str, list[tuple[float, float]]] = Field(default_factory=dict)  # target -> (unix time, value)
    tracks: dict[str, Track] = Field(default_factory=dict)  # "target/kind" -> active alert
    last_evaluated: float | None = None
    last_score: RegionScore | None = None  # re-evaluated as time passes (a pending alert fires on time)
    partition: int | None = None  # of the region's records (the table write of a re-evaluation goes there)

    def pending_due(self, now: dt.datetime, pending_for: dt.timedelta) -> bool:
        """Whether a pending alert has waited long enough to fire (time alone moves it)."""
        return any(t.state is AlertState.PENDING and now - t.since >= pending_for for t in self.tracks.values())


def reevaluate(
    state: RegionAlerts, now: dt.datetime, plan: Masterplan | None, framework: Framework, rules: AlertRules
) -> list[AlertEvent]:
    """Evaluate the last score again at ``now``: what time alone changes (pending alerts firing)."""
    if state.last_score is None:
        return []
    return evaluate(state, state.last_score.model_copy(update={"evaluated_at": now}), plan, framework, rules)


def targets(framework: Framework) -> list[str]:
    return [INDEX_TARGET, *(d.id for d in framework.dimensions)]


def evaluate(
    state: RegionAlerts, score: RegionScore, plan: Masterplan | None, framework: Framework, rules: AlertRules
) -> list[AlertEvent]:
    """Evaluate every target and kind of one region at ``score.evaluated_at``; update ``state`` in place.

    Scores older than the last one evaluated are ignored (a redelivery after a restart), so a
    replay never moves an alert backwards.
    """
    now = score.evaluated_at
    t_now = now.timestamp()
    if state.last_evaluated is not None and t_now <= state.last_evaluated:
        return []
    state.last_evaluated = t_now
    state.last_score = score
    region = score.region_code
    events: list[AlertEvent] = []
    for target in targets(framework):
        history = state.history.setdefault(target, [])
        for obs in observe(score, plan, target, history, framework, rules):
            key = f"{target}/{obs.kind.value}"
            track, transitions = step(state.tracks.get(key), obs, region, now, rules.pending_for)
            if track is None:
                state.tracks.pop(key, None)
            else:
                state.tracks[key] = track
            events.extend(_event(score, obs, tr, framework) for tr in transitions)
        value, _coverage, ok = target_value(score, target)
        if value is not None and ok and (not history or t_now - history[-1][0] >= rules.sample_every.total_seconds()):
            history.append((t_now, value))
            keep_from = t_now - max(rules.lookback, rules.drop_window).total_seconds()
            state.history[target] = [p for p in history if p[0] >= keep_from][-MAX_HISTORY:]
    return events


def _event(score: RegionScore, obs: Observation, tr: Transition, fw: Framework) -> AlertEvent:
    state, track = tr.state, tr.track
    top = drivers(score, obs.target, fw) if obs.kind is not AlertKind.DATA_STALE else []
    word = {AlertState.PENDING: "pending", AlertState.FIRING: "firing", AlertState.RESOLVED: "resolved"}[state]
    if tr.previous_severity is not None:
        word = f"severity {tr.previous_severity.value} -> {track.severity.value}"
    return AlertEvent(
        alert_id=track.alert_id,
        transition_id=transition_id(track.alert_id, state, tr.suffix),
        region_code=score.region_code,
        province_code=province_of(score.region_code),
        kind=obs.kind,
        target=obs.target,
        state=state,
        severity=track.severity,
        previous_severity=tr.previous_severity,
        at=score.evaluated_at,
        current=obs.current,
        expected=obs.expected,
        gap=obs.gap,
        milestone_due=obs.milestone_due,
        drivers=top,
        remedy=remedy(obs, top) if state is not AlertState.RESOLVED else "",
        summary=f"{score.region_code} {obs.kind.value} {word}: {obs.summary}",
    )
