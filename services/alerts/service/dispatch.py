"""Notifications of the transitions on ``maturity-alerts``: an outbox, and the attempts that empty it.

Each transition read back updates its alert's record and puts its notifications in the ``outbox``
table (one entry per destination: services/alerts/domain/delivery.py). Written before the record is
acknowledged, the outbox survives a crash, and the dispatcher delivers from it without holding up
the next transition: one attempt in flight per destination, so a destination that fails or hangs
holds only its own entries. Delivery follows the log: after a crash a transition is delivered again
with the same notification id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping

from pydantic import ValidationError

from schemas.alerts import AlertEvent, AlertState, EscalationLevel
from services.alerts.domain.delivery import Outgoing, Pacing, after_attempt, notification_id, outgoing, pick
from services.alerts.metrics import AlertsMetrics
from services.alerts.notify import AckTokens, Notification, Notifier
from services.alerts.service.bad_records import BadRecords
from services.alerts.service.open_alerts import OpenAlerts
from services.alerts.service.ports import Clock, HeldPartitions, Place, Received
from services.alerts.service.regions import Regions
from services.runtime import logs
from services.runtime.faust_app import partition_of

log = logs.get("pantau.alerts")
RELOAD_EVERY = 20  # ticks between reads of the whole outbox table (after a start or a rebalance at once)


class Dispatcher:
    def __init__(
        self,
        outbox: MutableMapping[str, Outgoing],
        alerts: OpenAlerts,
        regions: Regions,
        notifier: Notifier,
        tokens: AckTokens,
        metrics: AlertsMetrics,
        bad: BadRecords,
        *,
        pacing: Pacing,
        concurrency: int,
        place: Place,
        held_partitions: HeldPartitions,
        clock: Clock = time.time,
        pages_url: str | None = None,
    ) -> None:
        self.outbox = outbox
        self.alerts = alerts
        self.regions = regions
        self.notifier = notifier
        self.tokens = tokens  # the one signer: it writes every link and verifies clicks
        self.metrics = metrics
        self.bad = bad
        self.pacing = pacing
        self.concurrency = concurrency
        self.place = place  # outbox writes of an attempt go to the alert's partition of maturity-alerts
        self.held_partitions = held_partitions
        self.clock = clock
        self.pages_url = pages_url.rstrip("/") if pages_url else None  # the web pages: each region's card
        self.in_flight: set[str] = set()  # destinations with an attempt under way (one at a time each)
        self.queued: dict[str, Outgoing] = {}  # the outbox entries held here, decoded (the table holds the truth)
        self.running: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(concurrency)
        self.ticks = 0

    def on_record(self, record: Received) -> None:
        """A record of maturity-alerts (in the notify agent's stream: table writes follow its partition)."""
        try:
            alert = AlertEvent.model_validate_json(record.value or b"")
        except ValidationError as exc:
            self.bad.unreadable(record, "alert_invalid", exc)
            return
        self.on_transition(alert)

    def on_transition(self, alert: AlertEvent) -> None:
        now = self.clock()
        levels = self.alerts.on_transition(alert, now)
        for level in levels:
            for entry in outgoing(alert, level, self.notifier.destinations(self.notification(alert, level)), now):
                self.outbox[entry.key] = entry
                self.queued[entry.key] = entry
        if levels:
            self.dispatch()

    def notification(self, alert: AlertEvent, level: EscalationLevel) -> Notification:
        return Notification(
            id=notification_id(alert, level),
            alert=alert,
            level=level.value,
            ack_url=self.ack_link(alert) if alert.state is AlertState.FIRING else None,
            card_url=f"{self.pages_url}/wilayah/{alert.region_code}" if self.pages_url else None,
            history=self.regions.history(alert),
            path=self.regions.milestone_path(alert),
        )

    def ack_link(self, alert: AlertEvent) -> str:
        # Signed as of the transition's time, not now: a re-send after a crash is byte-identical, and
        # the link's lifetime counts from the alert.
        return self.tokens.url(alert.alert_id, alert.region_code, issued_at=alert.at.timestamp())

    def tick(self) -> None:
        """The timer: what the table holds after a start or a rebalance, and every RELOAD_EVERY ticks; dispatch."""
        self.ticks += 1
        if not self.queued or self.ticks % RELOAD_EVERY == 0:
            self.queued.clear()
            self.queued.update(self.outbox.items())
        self.dispatch()

    def forget(self) -> None:
        """After a rebalance: read again from the table (its entries of the partitions still held)."""
        self.queued.clear()

    def dispatch(self) -> None:
        """Start an attempt for every due outbox entry whose destination has none under way."""
        entries = list(self.queued.values())
        self.metrics.undelivered.set(sum(1 for e in entries if e.attempts > 0))
        for entry in pick(entries, self.clock(), self.in_flight, self.concurrency * 4):
            self.in_flight.add(entry.destination)
            task = asyncio.ensure_future(self.attempt(entry))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def attempt(self, entry: Outgoing) -> None:
        try:
            async with self.slots:
                outcome = await self.notifier.deliver_to(self.notification(entry.alert, entry.level), entry.destination)
            nxt, result = after_attempt(entry, outcome.outcome != "failed", outcome.error, self.clock(), self.pacing)
            if entry.attempts >= self.pacing.retries:  # a later delivery, after the fast retries
                self.metrics.redeliveries.labels(
                    "delivered" if result == "sent" else result.replace("retry", "failed")
                ).inc()
            if result == "abandoned":
                log.error("alerts.delivery_abandoned", alert_id=entry.alert.alert_id, region=entry.alert.region_code,
                          notification_id=entry.notification_id, destination=entry.destination,
                          attempts=entry.attempts + 1, error=outcome.error)  # fmt: skip
            partition = partition_of(entry.alert.region_code)
            if partition not in self.held_partitions():
                return  # the region moved to another worker meanwhile: its outbox goes on there
            with self.place(partition, entry.key):
                if nxt is None:
                    self.outbox.pop(entry.key, None)
                    self.queued.pop(entry.key, None)
                else:
                    self.outbox[entry.key] = nxt
                    self.queued[entry.key] = nxt
        except Exception:  # a bug must not stop the dispatcher: the entry stays and is tried again
            log.exception("alerts.delivery_attempt_error", notification_id=entry.notification_id,
                          destination=entry.destination)  # fmt: skip
        finally:
            self.in_flight.discard(entry.destination)
