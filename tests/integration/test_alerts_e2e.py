"""End to end on real parts: events -> scoring -> alerts -> a signed webhook and an email, then the resolve.

Real broker, the real scoring and alerts workers (subprocesses), a real SMTP server (aiosmtpd) and
an HTTP receiver that verifies the Standard Webhooks signature.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from schemas.alerts import AlertEvent
from tests.builders import an_indicator_event
from tests.integration.helpers import (
    TINY_FRAMEWORK,
    ServiceProcess,
    free_port,
    http_get,
    produce,
    read_all,
    wait_for,
)

SECRET = "whsec_" + base64.b64encode(b"pantau-e2e-test-secret-0123456789").decode()
REGION = "32.73"


class WebhookReceiver:
    """Records every POST with its headers; answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _plan_yaml() -> str:
    # A flat path at 3.0 for the index: a score of about 1 is far behind it.
    return f"""
format: pantau-masterplan/1
framework_id: tiny
regions:
  "{REGION}":
    plan_id: bandung-test
    milestones:
      - {{due: 2020-01-01, targets: {{index: 3.0}}}}
      - {{due: 2035-01-01, targets: {{index: 3.0}}}}
"""


def _contacts(webhook_url: str) -> str:
    return f"""
version: 1
regions:
  "{REGION}":
    name: Kantor Wali Kota Bandung
    language: id
    emails: [walikota@bandung.example]
    webhooks:
      - url: {webhook_url}
        secret: {SECRET}
national:
  name: Operasi Nasional
  emails: [ops@pantau.example]
"""


def _events(at: datetime, uptime: float, response_h: float, pm25: float) -> list[tuple[bytes | None, bytes]]:
    evs = [
        an_indicator_event(region_code=REGION, indicator_id="GOV_UPTIME", value=uptime, unit="percent", observed_at=at),
        an_indicator_event(
            region_code=REGION, indicator_id="GOV_RESPONSE_HOURS", value=response_h, unit="hours", observed_at=at
        ),
        an_indicator_event(region_code=REGION, indicator_id="ENV_PM25", value=pm25, unit="ug/m3", observed_at=at),
    ]
    return [(e.region_code.encode(), e.model_dump_json().encode()) for e in evs]


def test_falling_behind_notifies_the_region_and_recovery_resolves(
    kafka_bootstrap: str,
    start_scoring: Callable[..., tuple[ServiceProcess, str, int]],
    smtp: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    fw_file = tmp_path / "tiny.yaml"
    fw_file.write_text(TINY_FRAMEWORK)
    _scoring, prefix, _port = start_scoring(SCORING_FRAMEWORK_FILE=str(fw_file))
    mailbox, smtp_port = smtp
    with WebhookReceiver() as hooks:
        (tmp_path / "contacts.yaml").write_text(_contacts(hooks.url))
        (tmp_path / "plan.yaml").write_text(_plan_yaml())
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "ALERTS_TOPIC_PREFIX": prefix,
            "ALERTS_FRAMEWORK_FILE": str(fw_file),
        }
        load = ServiceProcess(["masterplan", "load", str(tmp_path / "plan.yaml")], env, tmp_path / "load.log")
        load.start()
        assert load.proc is not None and load.proc.wait(60) == 0, load.tail()

        port = free_port()
        alerts = ServiceProcess(["alerts", "run"], {
            **env, "ALERTS_APP_ID": f"alerts-{uuid.uuid4().hex[:8]}", "ALERTS_WEB_PORT": str(port),
            "ALERTS_DATA_DIR": str(tmp_path / "alerts"), "ALERTS_PENDING_FOR": "PT1S",
            "ALERTS_CONTACTS_FILE": str(tmp_path / "contacts.yaml"), "ALERTS_SMTP_HOST": "127.0.0.1",
            "ALERTS_SMTP_PORT": str(smtp_port), "ALERTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "ALERTS_ACK_SECRET": "test-ack-secret", "PANTAU_LOG_FORMAT": "json",
        }, tmp_path / "alerts.log").start()  # fmt: skip
        try:
            wait_for("the alerts worker", lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, timeout=90)
            t0 = datetime.now(UTC) - timedelta(minutes=5)
            # Uptime 91% -> 0.5, response 96 h -> 5*24/96 = 1.25, PM2.5 80 -> 0: index about 0.6, far below 3.0.
            produce(kafka_bootstrap, prefix + "indicator-events", _events(t0, 91.0, 96.0, 80.0))

            def firing_hook() -> dict[str, Any] | None:
                for headers, body in hooks.requests:
                    alert = json.loads(body)  # the AlertEvent's fields, plus ack_url and level
                    if alert.get("kind") == "behind_trajectory" and alert.get("state") == "firing":
                        return {"headers": headers, "body": body, "alert": alert}
                return None

            fired = wait_for("a signed firing webhook for behind_trajectory", firing_hook, timeout=90)
            # The signature verifies with the region's secret (Standard Webhooks).
            Webhook(SECRET).verify(
                fired["body"],
                {k: fired["headers"][k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")},
            )
            assert fired["alert"]["region_code"] == REGION and fired["alert"]["target"] == "index"
            assert fired["alert"]["gap"] > 2.0  # 3.0 expected, about 0.6 now
            # The email went to the head's office, in Bahasa Indonesia by default.
            mail = wait_for("the firing email", lambda: next(
                (m for m in mailbox.messages if "walikota@bandung.example" in m["To"]), None), timeout=60)  # fmt: skip
            assert "Bandung" in mail["Subject"]

            # Recovery: better readings, later in event time -> score about 4.7 -> resolved.
            produce(kafka_bootstrap, prefix + "indicator-events", _events(t0 + timedelta(minutes=4), 99.5, 20.0, 4.0))

            def resolved_hook() -> dict[str, Any] | None:
                for _headers, body in hooks.requests:
                    alert = json.loads(body)
                    if alert.get("alert_id") == fired["alert"]["alert_id"] and alert.get("state") == "resolved":
                        return alert
                return None

            wait_for("the resolved webhook of the same alert", resolved_hook, timeout=90)
            # Every transition is on maturity-alerts, with deterministic distinct transition ids.
            log = [
                AlertEvent.model_validate_json(r.value) for r in read_all(kafka_bootstrap, prefix + "maturity-alerts")
            ]
            mine = [a for a in log if a.alert_id == fired["alert"]["alert_id"]]
            assert [a.state.value for a in mine] == ["pending", "firing", "resolved"]
            assert len({a.transition_id for a in mine}) == 3
        finally:
            alerts.stop()
