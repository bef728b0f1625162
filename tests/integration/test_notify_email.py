"""Email through a real SMTP server (aiosmtpd) in the test: headers, both parts, the inline chart,
STARTTLS when the server offers it, plain SMTP when it does not."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.framework import load_framework
from services.alerts.notify import NotifyMetrics, NotifySettings
from services.alerts.notify.model import DeliveryReport
from services.alerts.notify.notifier import Notifier
from tests.notify_support import (
    Received,
    a_notification,
    an_alert_event,
    directory,
    framework_drivers,
    self_signed_cert,
    smtp_server,
)

FRAMEWORK = load_framework(None)

OFFICES = {
    "regions": {"32.73": {"name": "Kantor Wali Kota Bandung", "emails": ["walikota@bandung.example",
                                                                         "kominfo@bandung.example"]}},
    "national": {"name": "National operations", "emails": ["ops@pantau.example"], "language": "en"},
}  # fmt: skip


def settings(port: int, **overrides: Any) -> NotifySettings:
    fields: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "Pantau Kota Cerdas <pantau@pantau.example>",
        "retries": 1,
        "retry_base": 0.01,
        "smtp_timeout": 10,
    }
    return NotifySettings(**{**fields, **overrides})


async def deliver(s: NotifySettings, metrics: NotifyMetrics, **overrides: Any) -> DeliveryReport:
    async with Notifier(s, directory(OFFICES), metrics, framework=FRAMEWORK) as notifier:
        return await notifier.deliver(a_notification(**overrides))


def parse(received: Received) -> EmailMessage:
    msg = email.message_from_bytes(received.content, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def subject(msg: EmailMessage) -> str:
    # Python folds a 70-78 character subject onto its own line and its parser keeps the fold's space.
    return str(msg["Subject"]).strip()


def test_email_over_starttls_with_auth(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    metrics = NotifyMetrics(CollectorRegistry())

    async def scenario() -> tuple[DeliveryReport, list[Received]]:
        async with smtp_server(tls=(cert, key), login=("pantau", "s3cret")) as (port, recorder):
            s = settings(port, smtp_ca_file=cert, smtp_user="pantau", smtp_password=SecretStr("s3cret"))
            return await deliver(s, metrics), recorder.messages

    report, messages = asyncio.run(scenario())
    assert [(o.channel, o.outcome, o.attempts) for o in report.outcomes] == [("email", "sent", 1)]
    assert (report.entry, report.level) == ("regions.32.73", "region")
    (got,) = messages
    assert got.tls, "STARTTLS was offered, so the session must be encrypted"
    assert got.authenticated
    assert got.mail_from == "pantau@pantau.example"
    assert got.rcpt_tos == ["walikota@bandung.example", "kominfo@bandung.example"]

    msg = parse(got)
    n = a_notification()
    assert subject(msg) == "[Pantau] AKTIF kritis: Kota Bandung - tertinggal dari jalur (tata kelola)"
    assert msg["Message-ID"] == f"<{n.id}@pantau.example>"
    # The alert id has a ':' (not allowed in a Message-ID), so the thread root is its digest.
    assert msg["References"].startswith("<alert.") and msg["References"].endswith("@pantau.example>")
    assert msg["X-Pantau-Alert-Id"] == n.alert.alert_id
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "Skor saat ini: 2,80" in plain.get_content()
    assert "Jalur masterplan hari ini: 3,20" in plain.get_content()
    assert "Selisih: 0,40 poin di bawah jalur" in plain.get_content()
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "multipart/related"]
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert image.get_content_disposition() == "inline"
    png = image.get_payload(decode=True)
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")

    assert metrics.registry.get_sample_value("pantau_notifications_total", {"channel": "email", "outcome": "sent"}) == 1
    assert metrics.registry.get_sample_value("pantau_notification_attempts_total", {"channel": "email"}) == 1
    assert metrics.registry.get_sample_value("pantau_notification_delivery_seconds_count", {"channel": "email"}) == 1


def test_plain_smtp_when_starttls_is_not_offered_and_english_for_national() -> None:
    metrics = NotifyMetrics(CollectorRegistry())

    async def scenario() -> tuple[DeliveryReport, list[Received]]:
        async with smtp_server() as (port, recorder):
            return await deliver(settings(port), metrics, level="national", id="n-national-1"), recorder.messages

    report, messages = asyncio.run(scenario())
    assert [(o.channel, o.outcome) for o in report.outcomes] == [("email", "sent")]
    (got,) = messages
    assert not got.tls and got.rcpt_tos == ["ops@pantau.example"]
    msg = parse(got)
    assert subject(msg) == (
        "[Pantau][national escalation] FIRING critical: Kota Bandung - behind trajectory (governance)"
    )
    assert msg["Message-ID"] == "<n-national-1@pantau.example>"
    plain = msg.get_body(preferencelist=("plain",))
    assert plain is not None and "Current score: 2.80" in plain.get_content()


def test_drivers_by_the_frameworks_names_in_the_email() -> None:
    metrics = NotifyMetrics(CollectorRegistry())

    async def scenario() -> list[Received]:
        async with smtp_server() as (port, recorder):
            await deliver(settings(port), metrics, alert=an_alert_event(target="economy", drivers=framework_drivers()))
            return recorder.messages

    (got,) = asyncio.run(scenario())
    plain = parse(got).get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "  - Persentase Penduduk Miskin [persen]: skor 2,00 dari 5, bobot 2, menambah 0,22 poin pada skor ekonomi " \
           "bila mencapai 5" in text  # fmt: skip
    assert "P0" not in text


def test_a_failed_email_is_reported_not_raised() -> None:
    metrics = NotifyMetrics(CollectorRegistry())

    async def scenario() -> DeliveryReport:
        async with smtp_server() as (port, _):
            pass  # closed: nothing listens on the port any more
        return await deliver(settings(port), metrics)

    report = asyncio.run(scenario())
    (outcome,) = report.outcomes
    assert (outcome.outcome, outcome.attempts, outcome.retryable) == ("failed", 2, True)
    assert not report.complete
    r = metrics.registry
    assert r.get_sample_value("pantau_notifications_total", {"channel": "email", "outcome": "failed"}) == 1
    assert r.get_sample_value("pantau_notifications_total", {"channel": "email", "outcome": "retried"}) == 1
    assert r.get_sample_value("pantau_notification_attempts_total", {"channel": "email"}) == 2
