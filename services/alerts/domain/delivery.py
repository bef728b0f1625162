"""Delivery of notifications as data: an open alert's record, an outbox of (notification,
destination) entries, and the pure steps that move them.

- :func:`on_transition`: a transition read from ``maturity-alerts`` updates the alert's record and
  says which levels hear of it (one notification per level: ``{transition_id}-{level}``).
- :func:`outgoing`: one outbox entry per destination of a notification. An entry keeps its own
  transition and level for ever: a later delivery (after a failure, a restart or an escalation)
  sends exactly that notification, with the same id.
- :func:`after_attempt`: an attempt's outcome paces the entry: fast retries first, then later
  deliveries doubling up to an hour, until ``give_up_after``.
- :func:`pick`: which due entries to attempt now. One attempt in flight per destination, so a
  destination that fails or hangs holds only its own entries, never another's.
- :func:`escalation_due`: an unacknowledged alert's next level once its time has come.

No clock and no I/O here: ``now`` (seconds since the epoch) comes in, records come out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.alerts import AlertEvent, AlertState, EscalationLevel

LEVELS: tuple[EscalationLevel, ...] = (EscalationLevel.REGION, EscalationLevel.PROVINCE, EscalationLevel.NATIONAL)


class AlertRecord(BaseModel):
    """What the worker holding a region keeps of one of its alerts while it is open (and a while after)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    alert: AlertEvent  # the latest transition addressed to people (escalations and refreshes copy it)
    level: EscalationLevel  # the highest level that has heard of it
    fired_at: float
    acked: bool = False
    closed_at: float | None = None  # resolved: kept so that a late firing of the same alert is ignored

    @property
    def open(self) -> bool:
        return self.closed_at is None


class Outgoing(BaseModel):
    """One notification to one destination, until it is delivered or given up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notification_id: str
    alert: AlertEvent  # the transition this notification is about, as it was
    level: EscalationLevel
    destination: str  # ChannelOutcome.key: "webhook:<url>", "email:<addresses>", "alertmanager:<url>"
    created_at: float
    attempts: int = 0
    next_at: float
    last_error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.notification_id}|{self.destination}"


@dataclass(frozen=True)
class Pacing:
    """When a failed entry is tried again: ``retries`` fast retries (``retry_base`` doubling, at most
    ``retry_max_wait``), then later deliveries from ``redeliver_after`` doubling up to an hour, until
    ``give_up_after`` seconds after the notification was made."""

    retries: int = 5
    retry_base: float = 0.5
    retry_max_wait: float = 30.0
    redeliver_after: float = 60.0
    give_up_after: float = 86_400.0

    def wait(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        if attempts <= self.retries:
            return float(min(self.retry_max_wait, self.retry_base * 2 ** (attempts - 1)))
        return float(min(3600.0, self.redeliver_after * 2 ** (attempts - self.retries - 1)))


def notification_id(alert: AlertEvent, level: EscalationLevel) -> str:
    """The webhook-id and email Message-ID root of one level of one transition."""
    return f"{alert.transition_id}-{level.value}"


def on_transition(
    record: AlertRecord | None, alert: AlertEvent, now: float
) -> tuple[AlertRecord | None, list[EscalationLevel]]:
    """The alert's record after ``alert`` (a transition read back from the topic), and the levels to notify.

    - firing (a new alert, or an escalation to a higher level): that level hears of it;
    - firing with ``previous_severity`` (a change of band): every level that heard of the alert;
    - acknowledged: nobody (the record stops escalating);
    - resolved: every level that heard of the alert; the record is closed.
    A transition already applied (a replay after a restart) changes nothing and notifies nobody.
    """
    if record is not None and not record.open:
        return record, []  # resolved: a late or replayed transition of a closed alert
    if alert.state is AlertState.FIRING:
        if alert.previous_severity is not None and record is not None:
            if record.alert.transition_id == alert.transition_id:
                return record, []
            changed = alert.model_copy(update={"escalation": record.level})
            return record.model_copy(update={"alert": changed}), list(LEVELS[: LEVELS.index(record.level) + 1])
        level = alert.escalation
        if record is not None and LEVELS.index(record.level) >= LEVELS.index(level):
            return record, []
        fired_at = record.fired_at if record is not None else alert.at.timestamp()
        acked = record.acked if record is not None else False
        return AlertRecord(region=alert.region_code, alert=alert, level=level, fired_at=fired_at, acked=acked), [level]
    if record is None:
        return None, []  # acknowledged or resolved before this worker saw it fire: nobody was told
    if alert.state is AlertState.ACKNOWLEDGED:
        return record.model_copy(update={"acked": True}), []
    if alert.state is AlertState.RESOLVED:
        return record.model_copy(update={"closed_at": now}), list(LEVELS[: LEVELS.index(record.level) + 1])
    return record, []


def outgoing(alert: AlertEvent, level: EscalationLevel, destinations: Iterable[str], now: float) -> list[Outgoing]:
    """The outbox entries of one notification: one per destination, due at once."""
    nid = notification_id(alert, level)
    return [Outgoing(notification_id=nid, alert=alert, level=level, destination=d, created_at=now, next_at=now)
            for d in destinations]  # fmt: skip


Result = Literal["sent", "retry", "abandoned"]


def after_attempt(
    entry: Outgoing, sent: bool, error: str | None, now: float, pacing: Pacing
) -> tuple[Outgoing | None, Result]:
    """The entry after one attempt: gone when sent or given up, else due again after the pacing's wait."""
    if sent:
        return None, "sent"
    attempts = entry.attempts + 1
    next_at = now + pacing.wait(attempts)
    if next_at - entry.created_at > pacing.give_up_after:
        return None, "abandoned"
    return entry.model_copy(update={"attempts": attempts, "next_at": next_at, "last_error": error}), "retry"


def pick(entries: Iterable[Outgoing], now: float, in_flight: Iterable[str], limit: int) -> list[Outgoing]:
    """The due entries to attempt now, oldest first: at most one per destination (none for a
    destination with an attempt in flight) and at most ``limit``."""
    busy = set(in_flight)
    out: list[Outgoing] = []
    for entry in sorted(entries, key=lambda e: (e.next_at, e.created_at, e.key)):
        if len(out) >= limit or entry.next_at > now:
            break
        if entry.destination in busy:
            continue
        busy.add(entry.destination)
        out.append(entry)
    return out


def escalation_due(record: AlertRecord, now: float, step: float) -> EscalationLevel | None:
    """The next level of an open, unacknowledged alert once ``step`` seconds per level have passed."""
    index = LEVELS.index(record.level)
    if not record.open or record.acked or index + 1 >= len(LEVELS):
        return None
    if now - record.fired_at < step * (index + 1):
        return None
    return LEVELS[index + 1]
