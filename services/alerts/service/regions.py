"""The plans and alert states of the regions this worker holds, decoded once (the tables hold the truth)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, MutableMapping

from schemas.alerts import AlertEvent
from schemas.masterplan import Masterplan
from schemas.timezones import local_midnight
from services.alerts.domain.engine import RegionAlerts


class Regions:
    """``plans`` and ``states`` are the tables; what was read of them is kept here until a rebalance.

    A state held here is the working copy: the evaluation changes it in place and writes it to the
    table when it matters (services/alerts/service/evaluation.py), so read states through here.
    """

    def __init__(self, plans: MutableMapping[str, Masterplan], states: MutableMapping[str, RegionAlerts]) -> None:
        self.plans = plans
        self.states = states
        self._plans: dict[str, Masterplan | None] = {}
        self._held: dict[str, RegionAlerts] = {}

    def plan_of(self, region: str) -> Masterplan | None:
        if region not in self._plans:
            self._plans[region] = self.plans.get(region)
        return self._plans[region]

    def set_plan(self, plan: Masterplan) -> None:
        self.plans[plan.region_code] = plan
        self._plans[plan.region_code] = plan

    def state_of(self, region: str) -> RegionAlerts:
        state = self._held.get(region)
        if state is None:
            state = self._held[region] = self.states.get(region) or RegionAlerts()
        return state

    def every_state(self) -> Iterator[tuple[str, RegionAlerts]]:
        """Each region in the table with its state (the working copy where there is one; not kept otherwise)."""
        for region in list(self.states):
            state = self._held.get(region) or self.states.get(region)
            if state is not None:
                yield region, state

    def forget(self) -> None:
        """After a rebalance: read again from the tables (of the partitions still held)."""
        self._plans.clear()
        self._held.clear()

    def history(self, alert: AlertEvent, last: int = 60) -> list[tuple[dt.datetime, float]]:
        """The recent values of the alert's target in its region, oldest first."""
        points = self.state_of(alert.region_code).history.get(alert.target, [])
        return [(dt.datetime.fromtimestamp(t, dt.UTC), v) for t, v in points[-last:]]

    def milestone_path(self, alert: AlertEvent) -> list[tuple[dt.datetime, float]]:
        """The milestones of the alert's target in the region's plan, as (due, target) points."""
        plan = self.plan_of(alert.region_code)
        if plan is None:
            return []
        return [(local_midnight(m.due, alert.region_code), m.targets[alert.target])
                for m in plan.milestones if alert.target in m.targets]  # fmt: skip
