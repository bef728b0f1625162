"""The acknowledge link and the alert page: what a click or a visit does, whichever worker it reaches.

An acknowledge link may reach any worker (behind a load balancer). The worker holding the alert's
region writes the ``acknowledged`` transition (services/alerts/service/open_alerts.py); another one
forwards the click there through ``alert-acks``, keyed by region, and shows the page that the
holder renders (faust's router) when it can reach it. GET never acknowledges (mail scanners open
links); POST does.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from pydantic import ValidationError

from schemas.alerts import AckRequest, AlertEvent
from services.alerts.notify import AckTokenError, AckTokenExpired, AckTokens
from services.alerts.notify.render import Facts, Wording
from services.alerts.pages import Language, OpenAlert
from services.alerts.service.bad_records import BadRecords
from services.alerts.service.open_alerts import OpenAlerts
from services.alerts.service.ports import Clock, HeldPartitions, Received, Send
from services.alerts.service.regions import Regions
from services.runtime import logs
from services.runtime.faust_app import partition_of

log = logs.get("pantau.alerts")


@dataclass(frozen=True)
class AlertPage:
    """What a visit of an alert's page shows, in the order the web view asks."""

    held: OpenAlert | None  # the alert, when it is open here
    region: str | None
    problem: str | None = None  # the link does not acknowledge this alert: the words of the 403 page
    elsewhere: bool = False  # another worker holds the region: the page is that worker's to render
    missing: str | None = None  # nothing to show (here, or when the holder is unreachable): the 404 page's words


@dataclass(frozen=True)
class Acked:
    alert: AlertEvent
    already: bool  # acknowledged before this click


@dataclass(frozen=True)
class NotOpen:
    """Resolved, or never open: nothing to acknowledge."""


@dataclass(frozen=True)
class Forwarded:
    region: str  # the worker holding it records the acknowledgement


class Acknowledgements:
    def __init__(
        self,
        alerts: OpenAlerts,
        regions: Regions,
        tokens: AckTokens,
        wording: Wording,
        bad: BadRecords,
        *,
        send_ack: Send,
        held_partitions: HeldPartitions,
        clock: Clock = time.time,
    ) -> None:
        self.alerts = alerts
        self.regions = regions
        self.tokens = tokens
        self.wording = wording
        self.bad = bad
        self.send_ack = send_ack
        self.held_partitions = held_partitions
        self.clock = clock

    def holds(self, region: str) -> bool:
        return partition_of(region) in self.held_partitions()

    def page(self, alert_id: str, token: str | None) -> AlertPage:
        """The alert page; with a ``token`` (the acknowledge link), the link is checked first."""
        held = self.alerts.open_alert(alert_id)
        region = held.alert.region_code if held else None
        if token is not None:
            try:
                region = self.claim(token, alert_id)
            except AckTokenError as exc:
                return AlertPage(held, region, problem=token_problem(exc))
        if held is not None:
            return AlertPage(held, region)
        here = region is not None and self.holds(region)
        elsewhere = region is not None and not here
        missing = None if elsewhere and token is not None else "resolved" if token else "notfound"
        return AlertPage(held, region, elsewhere=elsewhere, missing=missing)

    def claim(self, token: str, alert_id: str) -> str | None:
        """The region the link names (None for a link of before regions were named); AckTokenError if bad."""
        _, region = self.tokens.claim(token, alert_id)
        return region

    async def click(self, alert_id: str, region: str | None) -> Acked | NotOpen | Forwarded:
        """The button of a checked link (``region``: the link's)."""
        before = self.alerts.open_alert(alert_id)
        alert = await self.alerts.acknowledge(alert_id)
        if alert is not None:
            return Acked(alert, already=before is not None and before.acked)
        if region is None or self.holds(region):
            return NotOpen()
        # Another worker holds the region: forward the click there (it is in the log, so it is not lost).
        req = AckRequest(alert_id=alert_id, region_code=region, requested_at=dt.datetime.fromtimestamp(
            self.clock(), dt.UTC))  # fmt: skip
        await self.send_ack(region, req)
        log.info("alerts.ack_forwarded", alert_id=alert_id, region=region)
        return Forwarded(region)

    async def on_record(self, record: Received) -> None:
        """A click forwarded by another worker (a record of alert-acks)."""
        try:
            req = AckRequest.model_validate_json(record.value or b"")
        except ValidationError as exc:
            self.bad.unreadable(record, "ack_invalid", exc)
            return
        if await self.alerts.acknowledge(req.alert_id) is None:
            log.info("alerts.ack_not_open", alert_id=req.alert_id, region=req.region_code)

    def facts(self, alert: AlertEvent, lang: Language) -> Facts:
        return self.wording.facts(alert, lang, self.regions.milestone_path(alert))


def token_problem(exc: AckTokenError) -> str:
    """The words of an outcome page for a link that does not acknowledge its alert."""
    if isinstance(exc, AckTokenExpired):
        return "bad.expired"
    return "bad.other" if "another alert" in str(exc) else "bad.invalid"
