"""Builders and real local servers for the notification tests: SMTP (aiosmtpd), a webhook receiver
(aiohttp) and Alertmanager (Debian's binary)."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook, WebhookVerificationError

from schemas.alerts import AlertEvent, Driver
from services.alerts.notify.contacts import ContactsDirectory, ContactsDocument
from services.alerts.notify.model import Notification
from tests.integration.helpers import free_port, http_get, wait_for

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def an_alert_event(**overrides: Any) -> AlertEvent:
    """Kota Bandung's governance is 0.40 behind its path (2.80 against 3.20), critical, firing."""
    fields: dict[str, Any] = {
        "alert_id": "32.73:governance:behind_trajectory:20261127T0800",
        "transition_id": "32.73:governance:behind_trajectory:20261127T0800:firing",
        "region_code": "32.73",
        "province_code": "32",
        "kind": "behind_trajectory",
        "target": "governance",
        "state": "firing",
        "severity": "critical",
        "at": AT,
        "current": 2.8,
        "expected": 3.2,
        "gap": 0.4,
        "milestone_due": date(2026, 12, 31),
        "drivers": [
            Driver(indicator_id="GOV_UPTIME", score=1.25, weight=2.0, pull=0.35),
            Driver(indicator_id="GOV_OPEN_DATA", score=None, weight=1.0, pull=0.2),
        ],
        "remedy": "Raise online service uptime to 99.5% & publish 40 datasets",
        "summary": "Kota Bandung governance 0.40 below its masterplan path",
    }
    fields.update(overrides)
    return AlertEvent(**fields)


def framework_drivers() -> list[Driver]:
    """Drivers with the shipped framework's ids: Real GRDP growth (percent) and the poverty rate (P0)."""
    return [
        Driver(indicator_id="ECO_GRDP_GROWTH", score=1.2, weight=1.0, pull=0.31),
        Driver(indicator_id="P0", score=2.0, weight=2.0, pull=0.22),
    ]


#: The national default plan's milestones (schemas/data/masterplan-national-2029.yaml) as the alerts
#: service hands them to the notifier: each due date at 00:00 UTC.
NATIONAL_PATH = [
    (datetime(y, 12, 31, tzinfo=UTC), v)
    for y, v in ((2024, 2.0), (2025, 2.3), (2026, 2.6), (2027, 2.9), (2028, 3.2), (2029, 3.5))
]


def a_notification(**overrides: Any) -> Notification:
    start = AT - timedelta(days=30)
    fields: dict[str, Any] = {
        "id": "32.73-governance-behind_trajectory-20261127T0800-firing-region",
        "alert": an_alert_event(),
        "level": "region",
        "ack_url": "http://127.0.0.1:6067/ack/32.73%3Agovernance?token=abc.def",
        "history": [(start + timedelta(days=i), 3.1 - 0.01 * i) for i in range(31)],
        "path": [(start, 3.0), (datetime(2026, 12, 31, tzinfo=UTC), 3.3)],
    }
    fields.update(overrides)
    return Notification(**fields)


def directory(doc: dict[str, Any]) -> ContactsDirectory:
    return ContactsDirectory(ContactsDocument.model_validate(doc))


# -- TLS ---------------------------------------------------------------------------------------


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 that is its own CA: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


# -- SMTP ----------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool


@dataclass
class SmtpRecorder:
    """aiosmtpd handler that keeps every message with how the session was secured."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.mail_from is not None and envelope.original_content is not None
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                     tls=session.ssl is not None, authenticated=bool(session.authenticated))
        )  # fmt: skip
        return "250 OK"


@asynccontextmanager
async def smtp_server(
    *, tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None
) -> AsyncIterator[tuple[int, SmtpRecorder]]:
    """A real SMTP server on 127.0.0.1, in this event loop: STARTTLS offered when ``tls`` is given."""
    recorder = SmtpRecorder()
    context = None
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and login == (data.login.decode(), data.password.decode())
        return AuthResult(success=ok)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="smtp.test", tls_context=context,
                     authenticator=authenticate if login else None, auth_require_tls=True),
        "127.0.0.1", 0,
    )  # fmt: skip
    try:
        yield server.sockets[0].getsockname()[1], recorder
    finally:
        server.close()
        await server.wait_closed()


# -- Webhooks ------------------------------------------------------------------------------------


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: Any


@dataclass
class WebhookReceiver:
    """Verifies every request with the Standard Webhooks library; answers from a script per path."""

    secret: str
    script: dict[str, list[int | float]]
    hits: list[Hit] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        try:
            verified = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return web.Response(status=401, text=str(exc))
        self.hits.append(Hit(request.path, headers, body, verified))
        answers = self.script.get(request.path, [])
        answer = answers.pop(0) if answers else 204
        if isinstance(answer, float):  # answer that late (seconds), then 204
            await asyncio.sleep(answer)
            answer = 204
        return web.Response(status=int(answer), headers={"Retry-After": "0"} if answer == 429 else None)


@asynccontextmanager
async def webhook_server(receiver: WebhookReceiver) -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 in this event loop; yields its base URL."""
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# -- Alertmanager --------------------------------------------------------------------------------

ALERTMANAGER_CONFIG = """\
route:
  receiver: blackhole
  group_by: [alertname, region]
receivers:
  - name: blackhole
"""


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None and Path("/usr/bin/prometheus-alertmanager").exists():
        found = "/usr/bin/prometheus-alertmanager"
    assert found, "Alertmanager is missing: apt-get install -y prometheus-alertmanager (Debian package)"
    return found


@contextmanager
def alertmanager(workdir: Path) -> Iterator[str]:
    """Debian's Alertmanager on a free loopback port, clustering off, storage in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(ALERTMANAGER_CONFIG)
    port = free_port()
    log = (workdir / "alertmanager.log").open("wb")
    proc = subprocess.Popen(
        [alertmanager_binary(), f"--config.file={config}", f"--storage.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("Alertmanager ready", lambda: proc.poll() is None and http_get(url + "/-/ready")[0] == 200, 30)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
