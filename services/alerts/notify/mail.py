"""Email over SMTP: a multipart message (plain text, HTML with the chart inline) and its delivery."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from services.alerts.notify.config import NotifySettings
from services.alerts.notify.render import RenderedEmail
from services.alerts.notify.retry import DeliveryError, smtp_code_retryable

_SAFE = re.compile(r"^[A-Za-z0-9._+-]{1,120}$")


def _token(value: str) -> str:
    """``value`` if it may stand left of the @ in a Message-ID, else a digest of it (still deterministic)."""
    return value if _SAFE.match(value) else hashlib.sha256(value.encode()).hexdigest()[:40]


def mail_domain(sender: str) -> str:
    addr = parseaddr(sender)[1]
    return addr.rpartition("@")[2] or "pantau.localhost"


def message_id(notification_id: str, domain: str) -> str:
    """The same notification always has the same Message-ID, so a re-send is recognisably a duplicate."""
    return f"<{_token(notification_id)}@{domain}>"


def chart_cid(notification_id: str, domain: str) -> str:
    """Content-ID of the chart image (without the angle brackets; the HTML says ``cid:`` + this)."""
    return f"chart.{_token(notification_id)}@{domain}"


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    to: Sequence[str],
    notification_id: str,
    alert_id: str,
    chart_cid: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """multipart/alternative: text/plain, then multipart/related (text/html + the chart as image/png)."""
    domain = mail_domain(sender)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(notification_id, domain)
    # Every notification of one alert refers to the same root, so mail clients keep them in one thread.
    msg["References"] = f"<alert.{_token(alert_id)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    if rendered.chart_png is not None:
        html_part = msg.get_body(preferencelist=("html",))
        assert html_part is not None
        html_part.add_related(
            rendered.chart_png,
            maintype="image",
            subtype="png",
            cid=f"<{chart_cid}>",
            disposition="inline",
            filename="chart.png",
        )
    return msg


class SmtpSender:
    def __init__(self, settings: NotifySettings) -> None:
        if settings.smtp_host is None:
            raise ValueError("SMTP is not configured (ALERTS_SMTP_HOST)")
        self.s = settings
        self.host = settings.smtp_host

    @property
    def destination(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def port(self) -> int:
        return self.s.smtp_port or (465 if self.s.smtp_ssl else 25)

    async def send(self, msg: EmailMessage) -> dict[str, str]:
        """One SMTP session: the recipients refused (if others accepted the message).

        STARTTLS when the server offers it (``auto``). SMTP 4xx and connection trouble are retryable.
        """
        s = self.s
        start_tls = None if s.smtp_starttls == "auto" else s.smtp_starttls == "always"
        try:
            errors, _ = await aiosmtplib.send(
                msg,
                hostname=self.host,
                port=self.port,
                username=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_ssl,
                start_tls=False if s.smtp_ssl else start_tls,
                cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
                timeout=s.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                f"every recipient refused: {exc.recipients}", retryable=all(map(smtp_code_retryable, codes))
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.code}: {exc.message}", retryable=smtp_code_retryable(exc.code), status=exc.code
            ) from None
        except aiosmtplib.SMTPNotSupported as exc:
            raise DeliveryError(f"SMTP server cannot: {exc}", retryable=False) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        # Some recipients accepted: the message is delivered; the caller logs those refused.
        return {addr: f"{resp.code} {resp.message}" for addr, resp in errors.items()}
