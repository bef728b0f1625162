"""Webhooks to a real HTTP receiver in the test that verifies every signature with the Standard
Webhooks library: retries keep the webhook-id, 4xx is not retried, a slow receiver times out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from schemas.framework import load_framework
from services.alerts.notify import DeliveryReport, Notifier, NotifyMetrics, NotifySettings
from tests.notify_support import (
    SECRET,
    WebhookReceiver,
    a_notification,
    an_alert_event,
    directory,
    framework_drivers,
    webhook_server,
)

OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # base64 of 24 bytes


def contacts(base: str, *paths: str, secret: str = SECRET) -> dict[str, Any]:
    hooks = [{"url": base + p, "secret": secret} for p in paths]
    return {
        "regions": {"32.73": {"name": "Kantor Wali Kota Bandung", "webhooks": hooks}},
        "provinces": {"32": {"name": "Diskominfo Jawa Barat", "webhooks": hooks, "language": "en"}},
    }


SETTINGS = NotifySettings(retries=3, retry_base=0.01, retry_max_wait=0.05, webhook_timeout=0.5)


def run(receiver: WebhookReceiver, *paths: str, metrics: NotifyMetrics, **overrides: Any) -> DeliveryReport:
    async def scenario() -> DeliveryReport:
        async with (
            webhook_server(receiver) as base,
            Notifier(SETTINGS, directory(contacts(base, *paths)), metrics) as n,
        ):
            return await n.deliver(a_notification(**overrides))

    return asyncio.run(scenario())


def test_signed_delivery_retried_after_a_500_with_the_same_id() -> None:
    receiver = WebhookReceiver(SECRET, {"/flaky": [500, 200]})
    metrics = NotifyMetrics(CollectorRegistry())
    report = run(receiver, "/flaky", metrics=metrics, level="province")

    (outcome,) = report.outcomes
    assert (outcome.channel, outcome.outcome, outcome.attempts) == ("webhook", "sent", 2)
    first, second = receiver.hits  # both passed signature verification
    n = a_notification()
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == n.id
    assert first.body == second.body
    body = orjson.loads(second.body)
    assert body == second.verified
    assert (body["alert_id"], body["transition_id"], body["level"]) == (n.alert.alert_id, n.alert.transition_id,
                                                                        "province")  # fmt: skip
    assert (body["current"], body["expected"], body["gap"]) == (2.8, 3.2, 0.4)
    assert body["ack_url"] == n.ack_url
    assert (body["region_name"], body["province_name"]) == ("Kota Bandung", "Jawa Barat")
    assert second.headers["Content-Type"] == "application/json"
    # The province's office reads English (its contacts entry says so).
    assert (body["language"], body["summary"]) == ("en", body["summary_en"])
    assert body["headline"] == "The governance score is below the masterplan path."

    r = metrics.registry
    assert r.get_sample_value("pantau_notifications_total", {"channel": "webhook", "outcome": "retried"}) == 1
    assert r.get_sample_value("pantau_notifications_total", {"channel": "webhook", "outcome": "sent"}) == 1
    assert r.get_sample_value("pantau_notification_attempts_total", {"channel": "webhook"}) == 2
    assert r.get_sample_value("pantau_notification_delivery_seconds_count", {"channel": "webhook"}) == 1


def test_a_resend_after_a_crash_carries_the_same_id_and_skips_what_was_sent() -> None:
    receiver = WebhookReceiver(SECRET, {"/down": [503, 503, 503, 503]})
    metrics = NotifyMetrics(CollectorRegistry())

    async def scenario() -> tuple[DeliveryReport, DeliveryReport]:
        async with (
            webhook_server(receiver) as base,
            Notifier(SETTINGS, directory(contacts(base, "/up", "/down")), metrics) as notifier,
        ):
            first = await notifier.deliver(a_notification())
            again = await notifier.deliver(a_notification(), skip={o.key for o in first.sent})
            return first, again

    first, again = asyncio.run(scenario())
    assert sorted((o.destination.rsplit("/", 1)[1], o.outcome) for o in first.outcomes) == [
        ("down", "failed"), ("up", "sent")]  # fmt: skip
    (down,) = first.failed
    assert (down.attempts, down.retryable, down.status) == (4, True, 503)
    assert sorted((o.destination.rsplit("/", 1)[1], o.outcome) for o in again.outcomes) == [
        ("down", "sent"), ("up", "skipped")]  # fmt: skip
    ids = {h.headers["webhook-id"] for h in receiver.hits}
    assert ids == {a_notification().id}
    assert [h.path for h in receiver.hits].count("/up") == 1


def test_the_body_speaks_the_offices_language_and_names_the_drivers() -> None:
    receiver = WebhookReceiver(SECRET, {})
    alert = an_alert_event(kind="score_drop", target="economy", current=2.92, expected=3.95, gap=1.03,
                           milestone_due=None, drivers=framework_drivers())  # fmt: skip

    async def scenario() -> None:
        async with (
            webhook_server(receiver) as base,
            Notifier(SETTINGS, directory(contacts(base, "/wa")), NotifyMetrics(CollectorRegistry()),
                     framework=load_framework(None), drop_window=timedelta(days=7)) as n,
        ):  # fmt: skip
            await n.deliver(a_notification(alert=alert))

    asyncio.run(scenario())
    (hit,) = receiver.hits
    body = hit.verified
    # The event's own fields stay, for receivers that parse them.
    assert (body["kind"], body["state"], body["current"], body["expected"], body["gap"]) == (
        "score_drop", "firing", 2.92, 3.95, 1.03)  # fmt: skip
    assert body["language"] == "id"  # the region's office names no language: the default
    assert body["title"] == "AKTIF kritis: Kota Bandung - skor turun tajam (ekonomi)"
    assert body["headline"] == "Skor ekonomi turun tajam dalam 7 hari terakhir."
    assert [(f["label"], f["text"]) for f in body["figures"]] == [
        ("Skor saat ini", "2,92"), ("Skor tertinggi 7 hari terakhir", "3,95"),
        ("Penurunan", "1,03 poin dari skor tertinggi")]  # fmt: skip
    assert body["drivers"][1] == {"indicator_id": "P0", "score": 2.0, "weight": 2.0, "pull": 0.22,
                                  "name": "Persentase Penduduk Miskin", "unit": "persen"}  # fmt: skip
    assert body["remedy"].startswith("Naikkan skor ekonomi sebesar 1,03 poin untuk memulihkan penurunan.")
    assert body["remedy_en"].startswith("Raise the economy score by 1.03 points to recover the fall.")
    assert "Poverty rate [percent]" in body["remedy_en"]


def test_4xx_is_not_retried_and_is_reported() -> None:
    receiver = WebhookReceiver(SECRET, {"/gone": [410]})
    metrics = NotifyMetrics(CollectorRegistry())
    report = run(receiver, "/gone", metrics=metrics)
    (outcome,) = report.outcomes
    assert (outcome.outcome, outcome.attempts, outcome.status, outcome.retryable) == ("failed", 1, 410, False)
    assert len(receiver.hits) == 1
    r = metrics.registry
    assert r.get_sample_value("pantau_notifications_total", {"channel": "webhook", "outcome": "failed"}) == 1
    assert r.get_sample_value("pantau_notifications_total", {"channel": "webhook", "outcome": "retried"}) == 0


def test_429_and_a_timeout_are_retried() -> None:
    receiver = WebhookReceiver(SECRET, {"/busy": [429, 0.9]})  # then answers after 0.9 s > 0.5 s timeout
    metrics = NotifyMetrics(CollectorRegistry())
    report = run(receiver, "/busy", metrics=metrics)
    (outcome,) = report.outcomes
    assert (outcome.outcome, outcome.attempts) == ("sent", 3)
    assert len({h.headers["webhook-id"] for h in receiver.hits}) == 1


def test_a_receiver_with_another_secret_refuses_the_signature() -> None:
    receiver = WebhookReceiver(OTHER_SECRET, {})
    metrics = NotifyMetrics(CollectorRegistry())
    report = run(receiver, "/strict", metrics=metrics)
    (outcome,) = report.outcomes
    assert (outcome.outcome, outcome.status, outcome.attempts) == ("failed", 401, 1)
    assert receiver.hits == []
