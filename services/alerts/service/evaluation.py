"""Region scores and plans in, alert transitions out (to ``maturity-alerts``).

- :meth:`Evaluator.judge_batch`: a partition's fetched scores; the latest of each region is judged
  (older ones add nothing; a bad record among those is not read either).
- :meth:`Evaluator.on_plan`: a new plan moves the path: the region's last score is judged against
  it at once.
- :meth:`Evaluator.fire_pending`: pending alerts fire after ``pending_for`` even when no new score
  arrives; :meth:`Evaluator.find_pending` finds them again after a restart or a rebalance.

A region's state is written to the table when its alerts or history change, else at most every
``STATE_REFRESH`` seconds: after a crash a few older scores are judged again, which gives the same
transitions (same ids).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from schemas.alerts import AlertEvent, AlertState
from schemas.framework import Framework
from schemas.masterplan import Masterplan, expected_on, next_milestone
from schemas.scores import RegionScore
from schemas.timezones import local_day
from services.alerts.domain.engine import RegionAlerts, evaluate, reevaluate, targets
from services.alerts.domain.rules import AlertRules, target_value
from services.alerts.metrics import AlertsMetrics
from services.alerts.service.bad_records import BadRecords
from services.alerts.service.ports import Clock, Place, Received, Send
from services.alerts.service.regions import Regions
from services.runtime import logs

log = logs.get("pantau.alerts")
STATE_REFRESH = 30.0
YIELD_EVERY = 64  # scores judged between yields to the event loop


class Evaluator:
    def __init__(
        self,
        regions: Regions,
        framework: Framework,
        rules: AlertRules,
        metrics: AlertsMetrics,
        bad: BadRecords,
        send_alert: Send,
        place: Place,
        *,
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self.regions = regions
        self.framework = framework
        self.rules = rules
        self.metrics = metrics
        self.bad = bad
        self.send_alert = send_alert
        self.place = place  # writes of a region's state go to its partition of region-scores
        self.clock = clock
        self.monotonic = monotonic
        self.targets = targets(framework)
        self.pending: dict[str, int] = {}  # region -> its partition, while it has a pending alert
        self.written_at: dict[str, float] = {}  # region -> when its state was last written to the table

    # -- scores -------------------------------------------------------------------------------------

    async def judge_batch(self, records: Sequence[Received], current: Callable[[], bool]) -> bool:
        """Judge the latest score of each region in ``records``; False when ``current()`` turned false
        on the way (a rebalance: the partition's new owner reads them again)."""
        latest: dict[bytes, Received] = {}
        for record in records:
            latest[record.key or b""] = record
        for n, record in enumerate(latest.values(), 1):
            if not current():
                return False
            await self.judge(record)
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return True

    async def judge(self, record: Received) -> None:
        try:
            score = RegionScore.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self.bad.refused(record, "score_invalid", exc)
            return
        try:
            await self._judge(score, record.partition)
        except Exception as exc:
            await self.bad.failed(record, exc)

    async def _judge(self, score: RegionScore, partition: int) -> None:
        if score.framework != self.framework.key:
            return  # scores of another framework version (a re-scoring run)
        self.metrics.scores.inc()
        region = score.region_code
        plan = self.regions.plan_of(region)
        state = self.regions.state_of(region)
        state.partition = partition
        before = _shape(state)
        transitions = evaluate(state, score, plan, self.framework, self.rules)
        now_s = self.monotonic()
        if transitions or _shape(state) != before or now_s - self.written_at.get(region, 0.0) >= STATE_REFRESH:
            self._write_state(region, partition, state)
            self.written_at[region] = now_s
        self._track_pending(region, partition, state)
        await self.publish(region, transitions)
        self._milestone_gauges(score, plan)

    # -- plans --------------------------------------------------------------------------------------

    async def on_plan(self, record: Received) -> None:
        """A record of masterplan-milestones (read in the agent's stream: table writes follow its partition)."""
        try:
            plan = Masterplan.model_validate_json(record.value or b"")
        except ValidationError as exc:
            if record.value is None:  # a delete on the compacted topic, not bad input
                self.bad.unreadable(record, "masterplan_invalid", exc)
            else:
                await self.bad.refused(record, "masterplan_invalid", exc)
            return
        try:
            await self._follow(plan)
        except Exception as exc:
            await self.bad.failed(record, exc)

    async def _follow(self, plan: Masterplan) -> None:
        region = plan.region_code
        self.regions.set_plan(plan)
        log.debug("alerts.plan", region=region, plan=plan.plan_id, basis=plan.basis)
        state = self.regions.state_of(region)
        if state.last_score is not None:
            transitions = reevaluate(state, self._now(), plan, self.framework, self.rules)
            self.regions.states[region] = state
            await self.publish(region, transitions)

    # -- time ---------------------------------------------------------------------------------------

    async def fire_pending(self) -> None:
        now = self._now()
        for region, partition in list(self.pending.items()):
            state = self.regions.state_of(region)
            if not state.pending_due(now, self.rules.pending_for):
                continue
            transitions = reevaluate(state, now, self.regions.plan_of(region), self.framework, self.rules)
            self._write_state(region, partition, state)
            self._track_pending(region, partition, state)
            await self.publish(region, transitions)

    def find_pending(self) -> None:
        for region, state in self.regions.every_state():
            if state.partition is not None:
                self._track_pending(region, state.partition, state)

    # -- out ----------------------------------------------------------------------------------------

    async def publish(self, region: str, transitions: list[AlertEvent]) -> None:
        for alert in transitions:
            self.metrics.transitions.labels(alert.kind.value, alert.state.value).inc()
            await self.send_alert(region, alert)
            log.info("alerts.transition", region=region, kind=alert.kind.value, target=alert.target,
                     state=alert.state.value, severity=alert.severity.value, alert_id=alert.alert_id)  # fmt: skip

    def _write_state(self, region: str, partition: int, state: RegionAlerts) -> None:
        """Outside an agent's stream: the write goes to the region's partition of region-scores."""
        with self.place(partition, region):
            self.regions.states[region] = state

    def _track_pending(self, region: str, partition: int, state: RegionAlerts) -> None:
        if any(t.state is AlertState.PENDING for t in state.tracks.values()):
            self.pending[region] = partition
        else:
            self.pending.pop(region, None)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def _milestone_gauges(self, score: RegionScore, plan: Masterplan | None) -> None:
        if plan is None:
            return
        m = self.metrics
        day = local_day(score.evaluated_at, score.region_code)
        reg, prov = score.region_code, score.province_code
        for target in self.targets:
            nxt = next_milestone(plan, target, day)
            if nxt is not None:
                m.milestone_target.labels(reg, prov, target).set(nxt.targets[target])
            expected = expected_on(plan, target, day)
            if expected is None:
                continue
            m.milestone_expected.labels(reg, prov, target).set(expected)
            current, _cov, ok = target_value(score, target)
            if current is not None and ok:
                m.milestone_gap.labels(reg, prov, target).set(expected - current)


def _shape(state: RegionAlerts) -> tuple[object, ...]:
    """What must reach the table at once: the alerts and the kept history (not the last score's time)."""
    return (tuple((k, t.state) for k, t in state.tracks.items()), tuple(len(h) for h in state.history.values()))
