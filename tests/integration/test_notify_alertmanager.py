"""Alerts pushed to a real Alertmanager (Debian's prometheus-alertmanager), read back from its v2 API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from schemas.framework import load_framework
from services.alerts.notify import DeliveryReport, Notification, Notifier, NotifyMetrics, NotifySettings
from services.alerts.notify.contacts import ContactsDirectory
from tests.integration.helpers import http_get, wait_for
from tests.notify_support import AT, a_notification, alertmanager, an_alert_event, framework_drivers

FRAMEWORK = load_framework(None)


@pytest.fixture(scope="module")
def am_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with alertmanager(tmp_path_factory.mktemp("alertmanager")) as url:
        yield url


def alerts(url: str, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"filter={k}%3D%22{v}%22" for k, v in filters.items())
    status, body = http_get(f"{url}/api/v2/alerts?{query}")
    assert status == 200, body
    got: list[dict[str, Any]] = json.loads(body)
    return got


def deliver(am: str, metrics: NotifyMetrics, *notifications: Notification, **settings: Any) -> list[DeliveryReport]:
    s = NotifySettings(alertmanager_url=am, public_url="http://pantau.example:6067", retries=1, retry_base=0.01,
                       **settings)  # fmt: skip

    async def scenario() -> list[DeliveryReport]:
        async with Notifier(s, ContactsDirectory(), metrics, framework=FRAMEWORK) as notifier:
            return [await notifier.deliver(n) for n in notifications]

    return asyncio.run(scenario())


def test_a_firing_alert_reaches_alertmanager_and_its_resolve_ends_it(am_url: str) -> None:
    metrics = NotifyMetrics(CollectorRegistry())
    firing = a_notification(alert=an_alert_event(drivers=framework_drivers()[:1]))
    (report,) = deliver(am_url, metrics, firing)
    assert [(o.channel, o.outcome, o.attempts) for o in report.outcomes] == [("alertmanager", "sent", 1)]

    (got,) = wait_for("the alert in Alertmanager", lambda: alerts(am_url, region="32.73", kind="behind_trajectory"), 10)
    assert got["labels"] == {
        "alertname": "PantauBehindTrajectory",
        "region": "32.73",
        "province": "32",
        "target": "governance",
        "kind": "behind_trajectory",
        "severity": "critical",
    }
    notes = got["annotations"]
    # In the default language (Bahasa Indonesia), every figure named for its kind, drivers by name.
    assert notes["summary"] == (
        "Kota Bandung - tertinggal dari jalur (tata kelola), kritis. Skor saat ini: 2,80; "
        "Jalur masterplan hari ini: 3,20."
    )
    assert (
        "Skor saat ini: 2,80; Jalur masterplan hari ini: 3,20; Selisih: 0,40 poin di bawah jalur; "
        "Tonggak berikutnya: 31 Desember 2026." in notes["description"]
    )
    assert "Laju pertumbuhan PDRB atas dasar harga konstan [persen]: skor 1,20 dari 5" in notes["description"]
    assert "ECO_GRDP_GROWTH" not in notes["description"]
    assert notes["runbook_url"] == "http://pantau.example:6067/runbooks/behind_trajectory"
    assert notes["alert_id"] == firing.alert.alert_id
    assert notes["level"] == "region"
    assert got["status"]["state"] == "active"
    assert got["generatorURL"] == (
        "http://pantau.example:6067/alerts/32.73%3Agovernance%3Abehind_trajectory%3A20261127T0800"
    )
    assert datetime.fromisoformat(got["startsAt"]) == AT
    ends = datetime.fromisoformat(got["endsAt"])
    assert datetime.now(UTC) + timedelta(minutes=55) < ends < datetime.now(UTC) + timedelta(minutes=65)

    resolved = a_notification(id="resolve-1", alert=an_alert_event(state="resolved", at=AT + timedelta(hours=1)))
    deliver(am_url, metrics, resolved)
    wait_for("the alert to end", lambda: not alerts(am_url, region="32.73", kind="behind_trajectory"), 10)

    r = metrics.registry
    assert r.get_sample_value("pantau_notifications_total", {"channel": "alertmanager", "outcome": "sent"}) == 2
    assert r.get_sample_value("pantau_notification_attempts_total", {"channel": "alertmanager"}) == 2


def test_pending_is_not_pushed_and_refresh_pushes_firing(am_url: str) -> None:
    metrics = NotifyMetrics(CollectorRegistry())
    samarinda = {"region_code": "64.72", "province_code": "64", "alert_id": "64.72:economy:at_risk:1",
                 "kind": "at_risk", "target": "economy", "severity": "warning"}  # fmt: skip
    (report,) = deliver(am_url, metrics, a_notification(alert=an_alert_event(state="pending", **samarinda)))
    assert [(o.channel, o.outcome) for o in report.outcomes] == [("alertmanager", "skipped")]

    settings = NotifySettings(alertmanager_url=am_url, retries=0)

    async def refresh() -> Any:
        async with Notifier(settings, ContactsDirectory(), metrics) as notifier:
            return await notifier.refresh_alertmanager([an_alert_event(**samarinda)])

    outcome = asyncio.run(refresh())
    assert (outcome.channel, outcome.outcome) == ("alertmanager", "sent")
    (got,) = wait_for("the refreshed alert", lambda: alerts(am_url, region="64.72"), 10)
    assert got["labels"]["alertname"] == "PantauAtRisk"
    assert got["labels"]["severity"] == "warning"
    assert "Kota Samarinda" in got["annotations"]["description"]


def test_english_for_operators_who_ask(am_url: str) -> None:
    metrics = NotifyMetrics(CollectorRegistry())
    kediri = {"region_code": "35.71", "province_code": "35", "alert_id": "35.71:economy:score_drop:1",
              "kind": "score_drop", "target": "economy", "current": 2.92, "expected": 3.95, "gap": 1.03,
              "milestone_due": None, "drivers": framework_drivers()}  # fmt: skip
    deliver(am_url, metrics, a_notification(alert=an_alert_event(**kediri)), language="en")
    (got,) = wait_for("the alert in Alertmanager", lambda: alerts(am_url, region="35.71"), 10)
    notes = got["annotations"]
    assert notes["summary"] == (
        "Kota Kediri - score drop (economy), critical. Current score: 2.92; Highest score within the drop window: 3.95."
    )
    assert "Drop: 1.03 points from the highest score." in notes["description"]
    assert "Poverty rate [percent]: score 2.00 of 5" in notes["description"]


def test_a_bad_alertmanager_url_is_reported() -> None:
    metrics = NotifyMetrics(CollectorRegistry())
    (report,) = deliver("http://127.0.0.1:9/", metrics, a_notification())
    (outcome,) = report.outcomes
    assert (outcome.outcome, outcome.attempts, outcome.retryable) == ("failed", 2, True)
