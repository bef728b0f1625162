"""Local stand-ins for the regional heads' inboxes, for ``make run``: an SMTP mailbox and a webhook log.

- SMTP (aiosmtpd) on 127.0.0.1:8025: every message is written to ``<home>/mailbox/NNNN.eml``.
- Webhooks on 127.0.0.1:8099: every POST is appended to ``<home>/webhooks.jsonl`` with its
  Standard Webhooks headers and whether its signature verifies with the demo secret.
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.runtime import logs

log = logs.get("pantau.sinks")
#: The secret of the demo contacts (deploy/alerts/contacts.demo.yaml). Not a secret of anything real.
DEMO_WEBHOOK_SECRET = "whsec_cGFudGF1LWRlbW8td2ViaG9vay1zZWNyZXQtMDE="


class _Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        path = self.folder / f"{self.count:05d}.eml"
        path.write_bytes(envelope.content)
        log.info("sinks.mail", to=envelope.rcpt_tos, file=str(path))
        return "250 OK"


def serve(home: Path, smtp_port: int = 8025, webhook_port: int = 8099) -> None:
    """Run both sinks until SIGTERM/SIGINT."""
    mailbox = home / "mailbox"
    mailbox.mkdir(parents=True, exist_ok=True)
    hooks_file = home / "webhooks.jsonl"
    verifier = Webhook(DEMO_WEBHOOK_SECRET)
    lock = threading.Lock()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                verifier.verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            line = {"received_at": datetime.now(UTC).isoformat(), "path": self.path, "verified": verified,
                    "webhook-id": headers.get("webhook-id"), "body": json.loads(body or b"null")}  # fmt: skip
            with lock, hooks_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    smtp = Controller(_Mailbox(mailbox), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", webhook_port), Hook)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()
        threading.Thread(target=http.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("sinks.ready", smtp=f"127.0.0.1:{smtp_port}", mailbox=str(mailbox),
             webhooks=f"http://127.0.0.1:{webhook_port}/", log=str(hooks_file))  # fmt: skip
    try:
        http.serve_forever(poll_interval=0.5)
    finally:
        http.server_close()
        smtp.stop()


def demo_contacts(path: Path, webhook_port: int = 8099) -> Path:
    """A contacts file for the demo: every region, province and national office at the local sinks."""
    from schemas.regions import default_registry

    reg = default_registry()
    hook = f"http://127.0.0.1:{webhook_port}"

    def office(name: str, email: str, url: str, language: str = "id") -> dict[str, Any]:
        return {"name": name, "emails": [email], "language": language,
                "webhooks": [{"url": url, "secret": DEMO_WEBHOOK_SECRET}]}  # fmt: skip

    doc = {
        "version": 1,
        "national": office("Operasi Nasional", "ops@pantau.local", f"{hook}/national", "en"),
        "provinces": {
            p.code: office(f"Diskominfo {p.name}", f"diskominfo.{p.code}@pantau.local", f"{hook}/provinces/{p.code}")
            for p in reg.provinces.values()
        },
        "regions": {
            r.code: office(f"Kantor {r.name}", f"kepala.{r.code}@pantau.local", f"{hook}/regions/{r.code}")
            for r in reg.regions.values()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")  # JSON is YAML
    return path
