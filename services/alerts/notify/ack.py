"""Acknowledge links: ``{public_url}/ack/{alert_id}?token=...``, signed and expiring.

The token carries the alert id, a timestamp and an HMAC (itsdangerous): whoever holds the link may
acknowledge that one alert until the token expires, and nobody can forge one for another alert.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from services.alerts.notify.config import NotifySettings
from services.runtime import logs

log = logs.get("alerts.notify")
_SALT = "pantau.alerts.ack.v1"


class AckTokenError(ValueError):
    """The token does not acknowledge this alert."""


class AckTokenExpired(AckTokenError):
    pass


class AckTokenInvalid(AckTokenError):
    pass


class AckSecretMissing(RuntimeError):
    """No acknowledge secret outside the embedded default: the worker must not start."""


class AckTokens:
    """Issues and verifies acknowledge tokens: one per process, with the secret every worker shares.

    ``clock`` (seconds since the epoch) is injectable for tests.
    """

    def __init__(self, secret: str, public_url: str, ttl: timedelta, *, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise AckSecretMissing("an acknowledge secret is required (ALERTS_ACK_SECRET)")
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl
        self.clock = clock
        self._serializer = self._serializer_at(None)

    def _serializer_at(self, issued_at: float | None) -> URLSafeTimedSerializer:
        clock = self.clock

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock() if issued_at is None else issued_at)

        return URLSafeTimedSerializer(self.secret, salt=_SALT, signer=_Signer)

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> AckTokens:
        if settings.ack_secret is None:
            raise AckSecretMissing("ALERTS_ACK_SECRET is not set")
        return cls(settings.ack_secret.get_secret_value(), settings.public_url, settings.ack_ttl)

    def token(self, alert_id: str, region: str | None = None, *, issued_at: float | None = None) -> str:
        """A token for ``alert_id``, timed now or at ``issued_at`` (seconds since the epoch)."""
        serializer = self._serializer if issued_at is None else self._serializer_at(issued_at)
        return str(serializer.dumps(alert_id if region is None else [alert_id, region]))

    def url(self, alert_id: str, region: str | None = None, *, issued_at: float | None = None) -> str:
        """The acknowledge link to put in a notification about ``alert_id`` (of ``region``).

        The link opens the alert's page; the page's button acknowledges (a POST: a link scanner
        that opens the link acknowledges nothing). With the region in the token, any alerts worker
        that receives the click can route it to the worker holding the region; the region is
        signed with the id, so it cannot be redirected. ``issued_at`` times the token (a re-send
        of the same transition gives the same link).
        """
        token = self.token(alert_id, region, issued_at=issued_at)
        return f"{self.public_url}/ack/{quote(alert_id, safe='')}?token={token}"

    def verify(self, token: str, alert_id: str | None = None) -> str:
        """The alert id the token acknowledges; with ``alert_id``, also that it is that alert's token.

        Raises :class:`AckTokenExpired` after the lifetime and :class:`AckTokenInvalid` for anything
        tampered with, signed with another secret, or issued for another alert.
        """
        return self.claim(token, alert_id)[0]

    def claim(self, token: str, alert_id: str | None = None) -> tuple[str, str | None]:
        """As :meth:`verify`, with the region the token names (None for a token issued without one)."""
        try:
            signed = self._serializer.loads(token, max_age=int(self.ttl.total_seconds()))
        except SignatureExpired as exc:
            raise AckTokenExpired(f"acknowledge link expired (valid for {self.ttl}); {exc}") from None
        except BadSignature:
            raise AckTokenInvalid("acknowledge link is not valid: bad or tampered signature") from None
        if isinstance(signed, str):
            signed_id, region = signed, None
        elif isinstance(signed, list) and len(signed) == 2 and all(isinstance(x, str) for x in signed):
            signed_id, region = signed
        else:
            raise AckTokenInvalid("acknowledge link is not valid: it names no alert")
        if alert_id is not None and signed_id != alert_id:
            raise AckTokenInvalid(f"acknowledge link is for another alert ({signed_id!r}, not {alert_id!r})")
        return signed_id, region


def local_secret(path: Path) -> str:
    """The embedded default's acknowledge secret: generated once, then read from ``path`` (mode 0600).

    Links in emails sent under ``make run`` must still work after a restart, and every worker on
    this machine must verify what another signed: so the secret lives with the local state.
    """
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    log.info("alerts.ack_secret_created", file=str(path))
    return secret
