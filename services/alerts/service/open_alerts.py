"""The alerts this worker holds, by their records in the ``deliveries`` table: what each transition
read back from ``maturity-alerts`` makes of them, acknowledgement, escalation and the Alertmanager refresh.

Acknowledgement and escalation are transitions written to ``maturity-alerts`` too, so their state
survives restarts; until one is read back, ``acking`` and ``escalating`` hold its alert id (a
second click is a replay; an escalation is not written twice).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, MutableMapping
from datetime import timedelta
from typing import Any

from schemas.alerts import AlertEvent, AlertState, EscalationLevel
from services.alerts.domain.delivery import AlertRecord, escalation_due, on_transition
from services.alerts.domain.lifecycle import transition_id
from services.alerts.notify import Notifier
from services.alerts.pages import OpenAlert
from services.alerts.service.ports import Clock, Place, Send
from services.runtime import logs
from services.runtime.faust_app import partition_of

log = logs.get("pantau.alerts")
CLOSED_KEPT = 86_400.0  # a resolved alert's record is kept a day, so that a late firing of it is ignored


class OpenAlerts:
    def __init__(
        self,
        deliveries: MutableMapping[str, AlertRecord],
        notifier: Notifier,
        send_alert: Send,
        place: Place,
        *,
        escalate_after: timedelta,
        clock: Clock = time.time,
    ) -> None:
        self.deliveries = deliveries
        self.notifier = notifier
        self.send_alert = send_alert
        self.place = place  # writes outside the notify agent go to the alert's partition of maturity-alerts
        self.escalate_after = escalate_after
        self.clock = clock
        self.escalating: set[str] = set()  # escalations written but not yet seen back on the topic
        self.acking: set[str] = set()  # acknowledgements written but not yet seen back

    def record_of(self, alert_id: str) -> AlertRecord | None:
        return self.deliveries.get(alert_id)

    def records(self) -> Iterator[tuple[str, AlertRecord]]:
        """The alerts' records held here (closed ones too, until they are dropped)."""
        yield from list(self.deliveries.items())

    def open_records(self) -> Iterator[tuple[str, AlertRecord]]:
        return ((alert_id, record) for alert_id, record in self.records() if record.open)

    def on_transition(self, alert: AlertEvent, now: float) -> list[EscalationLevel]:
        """The alert's record after a transition read back from the topic (in the notify agent's
        stream); the levels to notify."""
        before = self.record_of(alert.alert_id)
        record, levels = on_transition(before, alert, now)
        if record is not None and record is not before:
            self.deliveries[alert.alert_id] = record
        if alert.state is AlertState.ACKNOWLEDGED:
            self.acking.discard(alert.alert_id)
        else:
            self.escalating.discard(alert.alert_id)
        return levels

    def open_alert(self, alert_id: str) -> OpenAlert | None:
        """An open alert held here, with its escalation state; None when it is not open here."""
        record = self.record_of(alert_id)
        if record is None or not record.open:
            return None
        return OpenAlert(record.alert, record.level, record.acked or alert_id in self.acking, record.fired_at,
                         self.escalate_after)  # fmt: skip

    async def acknowledge(self, alert_id: str) -> AlertEvent | None:
        """Write the ``acknowledged`` transition of an open alert held here; None when it is not open here.

        Idempotent: an alert already acknowledged is returned as it is, and nothing is written again.
        """
        held = self.open_alert(alert_id)
        if held is None:
            return None
        alert = held.alert
        if held.acked:
            return alert
        ack = alert.model_copy(update={
            "state": AlertState.ACKNOWLEDGED, "transition_id": transition_id(alert_id, AlertState.ACKNOWLEDGED),
            "at": self._now(), "summary": f"{alert.summary} (acknowledged)",
        })  # fmt: skip
        self.acking.add(alert_id)
        await self.send_alert(alert.region_code, ack)
        log.info("alerts.acknowledged", alert_id=alert_id, region=alert.region_code)
        return alert

    async def escalate(self) -> None:
        """Unacknowledged alerts go up a level after ``escalate_after`` per level; closed records go a day on."""
        now = self.clock()
        for alert_id, record in self.records():
            if not record.open:
                if now - (record.closed_at or now) > CLOSED_KEPT:
                    with self.place(partition_of(record.region), alert_id):
                        self.deliveries.pop(alert_id, None)
                continue
            nxt = escalation_due(record, now, self.escalate_after.total_seconds())
            if nxt is None or alert_id in self.escalating or alert_id in self.acking:
                continue
            escalated = record.alert.model_copy(update={
                "escalation": nxt, "transition_id": transition_id(alert_id, AlertState.FIRING, nxt.value),
                "at": self._now(), "previous_severity": None,
                "summary": f"{record.alert.summary} (not acknowledged: escalated to {nxt.value})",
            })  # fmt: skip
            self.escalating.add(alert_id)
            await self.send_alert(record.region, escalated)
            log.warning("alerts.escalated", alert_id=alert_id, level=nxt.value, region=record.region)

    async def refresh_alertmanager(self) -> None:
        """Alertmanager forgets a firing alert after its endsAt: push the open ones again."""
        firing = [record.alert for _, record in self.open_records()]
        if firing:
            await self.notifier.refresh_alertmanager(firing)

    def listing(self) -> list[dict[str, Any]]:
        """The open alerts held here, as ``GET /alerts`` lists them."""
        out = []
        for alert_id, record in self.open_records():
            acked = record.acked or alert_id in self.acking
            out.append({**record.alert.model_dump(mode="json"), "acked": acked, "level": record.level.value})
        return sorted(out, key=lambda a: (a["region_code"], a["kind"], a["target"]))

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)
