"""One notification over every channel at once: webhook, email and Alertmanager, all real, with the
escalation level resolved from the contacts directory and a working acknowledge link."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from prometheus_client import CollectorRegistry

from schemas.framework import load_framework
from services.alerts.notify import AckTokens, DeliveryReport, Notifier, NotifyMetrics, NotifySettings
from tests.integration.helpers import http_get, wait_for
from tests.notify_support import (
    SECRET,
    Received,
    WebhookReceiver,
    a_notification,
    alertmanager,
    smtp_server,
    webhook_server,
)


def test_every_channel_for_an_escalation_to_the_province(tmp_path: Path) -> None:
    metrics = NotifyMetrics(CollectorRegistry())
    receiver = WebhookReceiver(SECRET, {})
    tokens = AckTokens("ack secret", "http://127.0.0.1:6067", timedelta(days=7))
    alert_id = a_notification().alert.alert_id
    n = a_notification(id="esc-province-1", level="province", ack_url=tokens.url(alert_id))

    async def scenario(am_url: str) -> tuple[DeliveryReport, list[Received]]:
        async with webhook_server(receiver) as base, smtp_server() as (port, recorder):
            contacts_file = tmp_path / "contacts.yaml"
            contacts_file.write_text(
                'provinces:\n  "32":\n    name: Diskominfo Jawa Barat\n    emails: [jabar@prov.example]\n'
                f"    webhooks: [{{url: '{base}/jabar', secret: '{SECRET}'}}]\n    language: en\n"
            )
            settings = NotifySettings(contacts_file=contacts_file, smtp_host="127.0.0.1", smtp_port=port,
                                      alertmanager_url=am_url, retries=1, retry_base=0.01)  # fmt: skip
            # As the alerts service builds it (services/alerts/bootstrap.py).
            async with Notifier.from_settings(settings, metrics, framework=load_framework(None),
                                              drop_window=timedelta(days=7)) as notifier:  # fmt: skip
                return await notifier.deliver(n), recorder.messages

    with alertmanager(tmp_path / "am") as am_url:
        report, messages = asyncio.run(scenario(am_url))
        wait_for(
            "the alert in Alertmanager", lambda: b"PantauBehindTrajectory" in http_get(am_url + "/api/v2/alerts")[1]
        )

    assert report.complete and report.entry == "provinces.32"
    assert sorted((o.channel, o.outcome) for o in report.outcomes) == [
        ("alertmanager", "sent"), ("email", "sent"), ("webhook", "sent")]  # fmt: skip
    (hit,) = receiver.hits
    assert hit.headers["webhook-id"] == "esc-province-1" and hit.verified["level"] == "province"
    assert hit.verified["language"] == "en"
    assert hit.verified["headline"] == "The governance score is below the masterplan path."
    (mail,) = messages
    msg = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert str(msg["Subject"]).strip().startswith("[Pantau][province escalation] FIRING critical: Kota Bandung")
    plain = msg.get_body(preferencelist=("plain",))
    assert plain is not None
    link = next(line.strip() for line in plain.get_content().splitlines() if "/ack/" in line)
    assert tokens.verify(link.split("?token=", 1)[1], n.alert.alert_id) == n.alert.alert_id
    for channel in ("webhook", "email", "alertmanager"):
        assert (
            metrics.registry.get_sample_value("pantau_notifications_total", {"channel": channel, "outcome": "sent"})
            == 1
        ), channel
