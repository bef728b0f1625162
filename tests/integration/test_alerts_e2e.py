"""End to end on real parts: events -> scoring -> alerts -> a signed webhook and an email, then the resolve.

Real broker, the real scoring and alerts workers (subprocesses), a real SMTP server (aiosmtpd) and
an HTTP receiver that verifies the Standard Webhooks signature.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from schemas.dlq import read_headers
from schemas.events import IndicatorEvent
from tests.builders import an_indicator_event
from tests.integration.helpers import (
    TINY_FRAMEWORK,
    ServiceProcess,
    free_port,
    http_get,
    http_post_json,
    metric,
    produce,
    read_all,
    wait_for,
)

SECRET = "whsec_" + base64.b64encode(b"pantau-e2e-test-secret-0123456789").decode()
REGION = "32.73"
OTHER = "35.78"  # Kota Surabaya: another office, another province


class WebhookReceiver:
    """Records every POST with its headers; answers 200, or 503 while ``down_until`` (epoch s) is ahead."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.refused: list[tuple[str, dict[str, str], bytes]] = []
        self.down_until = 0.0
        self.hang: dict[str, float] = {}  # path -> seconds to sit on each request before refusing it
        self.received_at: dict[str, float] = {}  # webhook-id -> when it was accepted
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                request = (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                if self.path in outer.hang:
                    time.sleep(outer.hang[self.path])
                    outer.refused.append(request)
                    self.send_response(503)
                elif time.time() < outer.down_until:
                    outer.refused.append(request)
                    self.send_response(503)
                else:
                    outer.requests.append(request)
                    outer.received_at.setdefault(request[1].get("webhook-id", ""), time.time())
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
  "{OTHER}":
    plan_id: surabaya-test
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
      - url: {webhook_url}/region
        secret: {SECRET}
  "{OTHER}":
    name: Kantor Wali Kota Surabaya
    webhooks:
      - url: {webhook_url}/other
        secret: {SECRET}
provinces:
  "32":
    name: Diskominfo Jawa Barat
    webhooks:
      - url: {webhook_url}/province
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


def _in(region: str, records: list[tuple[bytes | None, bytes]]) -> list[tuple[bytes | None, bytes]]:
    """The same readings for another region."""
    events = [IndicatorEvent.model_validate_json(v).model_copy(update={"region_code": region}) for _, v in records]
    return [(region.encode(), e.model_dump_json().encode()) for e in events]


@dataclass
class Stack:
    """Scoring, a plan for 32.73, the receivers, and a way to (re)start the alerts worker."""

    bootstrap: str
    prefix: str
    hooks: WebhookReceiver
    mailbox: Mailbox
    start_alerts: Callable[..., tuple[ServiceProcess, int]]

    def produce(self, records: list[tuple[bytes | None, bytes]]) -> None:
        produce(self.bootstrap, self.prefix + "indicator-events", records)

    def hook(self, **match: str) -> dict[str, Any] | None:
        """The first webhook whose body has these values (and its headers), or None."""
        for path, headers, body in list(self.hooks.requests):
            doc = json.loads(body)  # the AlertEvent's fields, plus ack_url and level
            if all(doc.get(k) == v for k, v in match.items()):
                return {"path": path, "headers": headers, "body": body, "alert": doc}
        return None

    def transitions(self) -> list[AlertEvent]:
        return [
            AlertEvent.model_validate_json(r.value) for r in read_all(self.bootstrap, self.prefix + "maturity-alerts")
        ]


@pytest.fixture
def stack(
    kafka_bootstrap: str,
    start_scoring: Callable[..., tuple[ServiceProcess, str, int]],
    smtp: tuple[Mailbox, int],
    tmp_path: Path,
) -> Iterator[Stack]:
    fw_file = tmp_path / "tiny.yaml"
    fw_file.write_text(TINY_FRAMEWORK)
    _scoring, prefix, _port = start_scoring(SCORING_FRAMEWORK_FILE=str(fw_file))
    mailbox, smtp_port = smtp
    started: list[ServiceProcess] = []
    app_id = f"alerts-{uuid.uuid4().hex[:8]}"
    with WebhookReceiver() as hooks:
        (tmp_path / "contacts.yaml").write_text(_contacts(hooks.url))
        (tmp_path / "plan.yaml").write_text(_plan_yaml())
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "ALERTS_TOPIC_PREFIX": prefix,
               "ALERTS_FRAMEWORK_FILE": str(fw_file)}  # fmt: skip
        load = ServiceProcess(["masterplan", "load", str(tmp_path / "plan.yaml")], env, tmp_path / "load.log")
        load.start()
        assert load.proc is not None and load.proc.wait(60) == 0, load.tail()

        def start_alerts(port: int | None = None, **extra: str) -> tuple[ServiceProcess, int]:
            port = port or free_port()
            svc = ServiceProcess(["alerts", "run"], {
                **env, "ALERTS_APP_ID": app_id, "ALERTS_WEB_PORT": str(port),
                "ALERTS_DATA_DIR": str(tmp_path / "alerts"), "ALERTS_PENDING_FOR": "PT1S",
                "ALERTS_CONTACTS_FILE": str(tmp_path / "contacts.yaml"), "ALERTS_SMTP_HOST": "127.0.0.1",
                "ALERTS_SMTP_PORT": str(smtp_port), "ALERTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "ALERTS_ACK_SECRET": "test-ack-secret", "PANTAU_LOG_FORMAT": "json", **extra,
            }, tmp_path / f"alerts-{len(started)}.log").start()  # fmt: skip
            started.append(svc)
            wait_for("the alerts worker", lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, timeout=90)
            return svc, port

        yield Stack(kafka_bootstrap, prefix, hooks, mailbox, start_alerts)
        for svc in started:
            if svc.alive():
                svc.stop()


T_BAD = datetime.now(UTC) - timedelta(minutes=5)
# Uptime 91% -> 0.5, response 96 h -> 5*24/96 = 1.25, PM2.5 80 -> 0: index about 0.6, far below 3.0.
BAD = dict(uptime=91.0, response_h=96.0, pm25=80.0)
# Uptime 99.5 -> 4.75, response 20 h -> 5 (capped), PM2.5 4 -> 5: index about 4.9, above the path.
GOOD = dict(uptime=99.5, response_h=20.0, pm25=4.0)


def test_falling_behind_notifies_the_region_and_recovery_resolves(stack: Stack) -> None:
    stack.start_alerts()
    stack.produce(_events(T_BAD, **BAD))
    fired = wait_for("a signed firing webhook for behind_trajectory",
                     lambda: stack.hook(kind="behind_trajectory", state="firing"), timeout=90)  # fmt: skip
    # The signature verifies with the region's secret (Standard Webhooks); it went to the region's office.
    Webhook(SECRET).verify(
        fired["body"], {k: fired["headers"][k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    )
    assert fired["path"] == "/hook/region" and fired["alert"]["level"] == "region"
    assert fired["alert"]["region_code"] == REGION and fired["alert"]["target"] == "index"
    assert fired["alert"]["gap"] > 2.0  # 3.0 expected, about 0.6 now
    # The email went to the head's office.
    mail = wait_for("the firing email", lambda: next(
        (m for m in stack.mailbox.messages if "walikota@bandung.example" in m["To"]), None), timeout=60)  # fmt: skip
    assert "Bandung" in mail["Subject"]

    # Recovery: better readings, later in event time -> resolved.
    stack.produce(_events(T_BAD + timedelta(minutes=4), **GOOD))
    alert_id = fired["alert"]["alert_id"]
    wait_for("the resolved webhook of the same alert", lambda: stack.hook(alert_id=alert_id, state="resolved"),
             timeout=90)  # fmt: skip
    # Every transition is on maturity-alerts, with deterministic distinct transition ids.
    mine = [a for a in stack.transitions() if a.alert_id == alert_id]
    assert [a.state.value for a in mine] == ["pending", "firing", "resolved"]
    assert len({a.transition_id for a in mine}) == 3


def test_a_score_the_worker_cannot_use_is_a_dead_letter_and_the_next_one_alerts(stack: Stack) -> None:
    """A record on region-scores that is not a RegionScore, and a tombstone: each goes to alerts.dlq as
    received, with its reason, and the worker goes on to alert on the region's next score."""
    _, port = stack.start_alerts()
    poison = b'{"region_code": "32.73", "index": "high"}'
    produce(stack.bootstrap, stack.prefix + "region-scores", [(REGION.encode(), poison), (OTHER.encode(), None)])

    def dead_letters() -> list[Any] | None:
        records = read_all(stack.bootstrap, stack.prefix + "alerts.dlq")
        return records if len(records) >= 2 else None

    dead = {read_headers(r.headers)["pantau.dlq.reason"]: r for r in wait_for("two dead letters", dead_letters)}
    assert set(dead) == {"schema_invalid", "empty_value"}
    bad = dead["schema_invalid"]
    assert (bad.key, bad.value) == (REGION.encode(), poison)
    headers = read_headers(bad.headers)
    assert (headers["pantau.dlq.source.topic"], headers["pantau.dlq.service"]) == (
        stack.prefix + "region-scores", "alerts")  # fmt: skip
    assert "validation error" in headers["pantau.dlq.detail"]
    assert (dead["empty_value"].key, dead["empty_value"].value) == (OTHER.encode(), None)
    # The worker goes on: the region's next score (from the scoring service) alerts as usual.
    stack.produce(_events(T_BAD, **BAD))
    wait_for("a firing webhook after the dead letters", lambda: stack.hook(kind="behind_trajectory", state="firing"),
             timeout=90)  # fmt: skip
    text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
    assert metric(text, "pantau_alerts_dead_letters_total", reason="schema_invalid") == 1
    assert metric(text, "pantau_alerts_dead_letters_total", reason="empty_value") == 1
    assert metric(text, "pantau_alerts_messages_invalid_total", reason="score_invalid") == 2


def test_unacknowledged_alert_escalates_to_the_province_and_an_acknowledged_one_does_not(stack: Stack) -> None:
    stack.start_alerts(ALERTS_ESCALATE_AFTER="PT6S")
    stack.produce(_events(T_BAD, **BAD))
    # Two alerts fire for the index: behind_trajectory and milestone_missed (its due date has passed).
    behind = wait_for("behind_trajectory firing", lambda: stack.hook(kind="behind_trajectory", state="firing"),
                      timeout=90)  # fmt: skip
    missed = wait_for("milestone_missed firing", lambda: stack.hook(kind="milestone_missed", state="firing"),
                      timeout=90)  # fmt: skip
    # Opening the link (a GET, as a mail scanner does) shows the alert page and acknowledges nothing.
    status, body = http_get(behind["alert"]["ack_url"])
    assert status == 200 and b'<form method="post"' in body, body
    # Acknowledge one through the link in its notification: a POST, as the page's button sends it.
    status, body = http_post_json(behind["alert"]["ack_url"])
    assert status == 200 and json.loads(body)["acknowledged"] == behind["alert"]["alert_id"], body
    # A forged token is refused and names the problem.
    bad_status, bad_body = http_post_json(behind["alert"]["ack_url"].split("?")[0] + "?token=forged")
    assert bad_status == 403 and b"tampered" in bad_body
    # The other goes to the province office.
    up = wait_for("milestone_missed escalated to the province", lambda: stack.hook(
        alert_id=missed["alert"]["alert_id"], level="province"), timeout=60)  # fmt: skip
    assert up["path"] == "/hook/province" and up["alert"]["escalation"] == "province"
    assert up["headers"]["webhook-id"] != missed["headers"]["webhook-id"]  # a new notification
    assert stack.hook(alert_id=behind["alert"]["alert_id"], level="province") is None
    states = [a.state.value for a in stack.transitions() if a.alert_id == behind["alert"]["alert_id"]]
    assert states == ["pending", "firing", "acknowledged"]


def test_sigkill_of_the_alerts_worker_loses_no_notification(stack: Stack) -> None:
    worker, port = stack.start_alerts()
    stack.produce(_events(T_BAD, **BAD))
    # Kill it hard as soon as the first notification is out: the second is in flight or not sent yet.
    wait_for("a first firing webhook", lambda: stack.hook(state="firing"), timeout=90)
    worker.kill()
    stack.start_alerts(port)  # the same public URL, as in production
    for kind in ("behind_trajectory", "milestone_missed"):
        wait_for(f"{kind} firing after the restart", lambda k=kind: stack.hook(kind=k, state="firing"), timeout=90)
    stack.produce(_events(T_BAD + timedelta(minutes=4), **GOOD))
    for kind in ("behind_trajectory", "milestone_missed"):
        wait_for(f"{kind} resolved", lambda k=kind: stack.hook(kind=k, state="resolved"), timeout=90)
    # A notification sent twice (before and after the kill) carries the same webhook-id and body.
    by_id: dict[str, set[bytes]] = {}
    for _path, headers, body in stack.hooks.requests:
        by_id.setdefault(headers["webhook-id"], set()).add(body)
    differing = {i: [json.loads(x) for x in b] for i, b in by_id.items() if len(b) > 1}
    diffs = {i: {k: [d.get(k) for d in docs] for k in docs[0] if len({json.dumps(d.get(k)) for d in docs}) > 1}
             for i, docs in differing.items()}  # fmt: skip
    assert not diffs, diffs


def test_an_acknowledge_link_works_whichever_worker_receives_the_click(stack: Stack, tmp_path: Path) -> None:
    """Two alerts workers share the partitions; a click that lands on the one without the alert is
    forwarded (alert-acks, keyed by region) to the one that holds it, and escalation stops there."""
    ports = [stack.start_alerts(ALERTS_DATA_DIR=str(tmp_path / name), ALERTS_ESCALATE_AFTER="PT8S")[1]
             for name in ("worker-a", "worker-b")]  # fmt: skip

    def held(port: int) -> list[int]:
        status, body = http_get(f"http://127.0.0.1:{port}/healthz")
        return list(json.loads(body)["partitions"]) if status == 200 else []

    def split() -> list[list[int]] | None:
        parts = [held(p) for p in ports]
        return parts if all(parts) and sorted(parts[0] + parts[1]) == list(range(12)) else None

    wait_for("the two workers sharing the 12 partitions", split, timeout=90)
    stack.produce(_events(T_BAD, **BAD))
    behind = wait_for("behind_trajectory firing", lambda: stack.hook(kind="behind_trajectory", state="firing"),
                      timeout=90)  # fmt: skip
    missed = wait_for("milestone_missed firing", lambda: stack.hook(kind="milestone_missed", state="firing"),
                      timeout=90)  # fmt: skip
    alert_id = behind["alert"]["alert_id"]

    def open_on(port: int) -> bool:
        _, body = http_get(f"http://127.0.0.1:{port}/alerts")
        return any(a["alert_id"] == alert_id for a in json.loads(body)["open"])

    owner = wait_for("the worker that holds the alert", lambda: next((p for p in ports if open_on(p)), None))
    other = next(p for p in ports if p != owner)
    assert not open_on(other)
    # The link names the owner (its public URL); a load balancer sends the click to the other one.
    link = behind["alert"]["ack_url"]
    assert f"127.0.0.1:{owner}/" in link
    status, body = http_post_json(link.replace(f"127.0.0.1:{owner}/", f"127.0.0.1:{other}/"))
    assert status == 202, body
    assert json.loads(body)["region"] == REGION
    wait_for("the acknowledged transition", lambda: "acknowledged" in [
        a.state.value for a in stack.transitions() if a.alert_id == alert_id], timeout=60)  # fmt: skip
    # The unacknowledged one escalates; the acknowledged one does not.
    wait_for("milestone_missed escalated to the province", lambda: stack.hook(
        alert_id=missed["alert"]["alert_id"], level="province"), timeout=60)  # fmt: skip
    assert stack.hook(alert_id=alert_id, level="province") is None
    _, body = http_get(f"http://127.0.0.1:{owner}/alerts")
    assert [a["acked"] for a in json.loads(body)["open"] if a["alert_id"] == alert_id] == [True]


def test_a_notification_that_failed_all_its_retries_is_delivered_later(stack: Stack) -> None:
    """The regional office's gateway is down for longer than the retries last: the firing webhook
    is delivered when it is back, with the same id (a later delivery, not a lost notification)."""
    stack.hooks.down_until = time.time() + 3600  # down until the test says otherwise
    stack.start_alerts(ALERTS_RETRIES="1", ALERTS_RETRY_BASE="0.1", ALERTS_REDELIVER_AFTER="PT2S")
    stack.produce(_events(T_BAD, **BAD))

    def refused_firing() -> dict[str, Any] | None:
        for path, headers, body in list(stack.hooks.refused):
            doc = json.loads(body)
            if doc["kind"] == "behind_trajectory" and doc["state"] == "firing":
                return {"path": path, "headers": headers, "alert": doc}
        return None

    first = wait_for("the firing webhook refused (gateway down)", refused_firing, timeout=90)
    time.sleep(5)  # the one retry is long over; nothing got through
    assert stack.hook(kind="behind_trajectory", state="firing") is None
    stack.hooks.down_until = 0.0  # the gateway is back
    got = wait_for("the firing webhook delivered later", lambda: stack.hook(kind="behind_trajectory",
                   state="firing"), timeout=60)  # fmt: skip
    assert got["headers"]["webhook-id"] == first["headers"]["webhook-id"]
    assert got["alert"]["alert_id"] == first["alert"]["alert_id"]
    # The email went out at once (only the webhook failed) and is not sent twice.
    emails = [m for m in stack.mailbox.messages if "walikota@bandung.example" in m["To"]
              and "Bandung" in m["Subject"]]  # fmt: skip
    assert len({m["Message-ID"] for m in emails}) == len(emails)


def test_a_failing_office_delays_nobody_and_gets_its_own_notification_after_the_escalation(stack: Stack) -> None:
    """Bandung's gateway hangs on every request; Surabaya's is up. Surabaya hears at once; Bandung's
    alert escalates to its province meanwhile; when Bandung's gateway is back it gets the firing
    notification it missed (its own id and level), not the province's escalation."""
    stack.hooks.hang["/hook/region"] = 3.0  # longer than the 1 s webhook timeout: each attempt times out
    stack.start_alerts(ALERTS_ESCALATE_AFTER="PT8S", ALERTS_WEBHOOK_TIMEOUT="1", ALERTS_RETRIES="1",
                       ALERTS_RETRY_BASE="0.1", ALERTS_REDELIVER_AFTER="PT2S")  # fmt: skip
    stack.produce(_events(T_BAD, **BAD) + _in(OTHER, _events(T_BAD, **BAD)))
    other = wait_for("Surabaya's firing webhook", lambda: stack.hook(region_code=OTHER, kind="behind_trajectory",
                     state="firing"), timeout=90)  # fmt: skip
    firing = next(a for a in stack.transitions() if a.region_code == OTHER and a.state.value == "firing"
                  and a.kind.value == "behind_trajectory")  # fmt: skip
    # Written to the topic, then delivered: within 2 s, while Bandung's attempts hang 1 s each.
    assert stack.hooks.received_at[other["headers"]["webhook-id"]] - firing.at.timestamp() < 2.0
    refused = wait_for("Bandung's attempts refused", lambda: [r for r in stack.hooks.refused
                       if r[0] == "/hook/region"], timeout=60)  # fmt: skip
    bandung_id = json.loads(refused[0][2])["alert_id"]
    up = wait_for("Bandung's alert escalated to the province", lambda: stack.hook(
        alert_id=bandung_id, level="province"), timeout=60)  # fmt: skip
    assert up["path"] == "/hook/province"
    del stack.hooks.hang["/hook/region"]  # Bandung's gateway is back
    late = wait_for("Bandung's own firing notification, delivered later", lambda: stack.hook(
        alert_id=bandung_id, level="region", state="firing"), timeout=60)  # fmt: skip
    bandung_firing = next(a for a in stack.transitions() if a.alert_id == bandung_id and a.state.value == "firing"
                          and a.escalation.value == "region")  # fmt: skip
    assert late["path"] == "/hook/region" and late["alert"]["escalation"] == "region"
    assert late["headers"]["webhook-id"] == f"{bandung_firing.transition_id}-region"
    # Only that notification (and others meant for the region) reached the region's gateway, each once.
    to_region = [
        h for p, h, b in stack.hooks.requests if p == "/hook/region" and json.loads(b)["alert_id"] == bandung_id
    ]
    assert all(json.loads(b)["level"] == "region" for p, _, b in stack.hooks.requests if p == "/hook/region")
    ids = [h["webhook-id"] for h in to_region]
    assert len(ids) == len(set(ids)) and f"{bandung_firing.transition_id}-region" in ids
