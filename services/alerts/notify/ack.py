"""Acknowledge links: ``{public_url}/ack/{alert_id}?token=...``, signed and expiring.

The token carries the alert id, a timestamp and an HMAC (itsdangerous): whoever holds the link may
acknowledge that one alert until the token expires, and nobody can forge one for another alert.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from pantau import logs
from services.alerts.notify.config import NotifySettings

log = logs.get("alerts.notify")
_SALT = "pantau.alerts.ack.v1"


class AckTokenError(ValueError):
    """The token does not acknowledge this alert."""


class AckTokenExpired(AckTokenError):
    pass


class AckTokenInvalid(AckTokenError):
    pass


class AckTokens:
    """Issues and verifies acknowledge tokens. ``clock`` (seconds since the epoch) is injectable for tests."""

    def __init__(
        self, secret: str | None, public_url: str, ttl: timedelta, *, clock: Callable[[], float] = time.time
    ) -> None:
        #: Without a configured secret, links work until the process restarts (development only).
        self.ephemeral = not secret
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializer = URLSafeTimedSerializer(secret or secrets.token_urlsafe(32), salt=_SALT, signer=_Signer)

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> AckTokens:
        secret = settings.ack_secret.get_secret_value() if settings.ack_secret else None
        if secret is None:
            log.warning("ALERTS_ACK_SECRET is not set: acknowledge links stop working when the service restarts")
        return cls(secret, settings.public_url, settings.ack_ttl)

    def token(self, alert_id: str, region: str | None = None) -> str:
        return str(self._serializer.dumps(alert_id if region is None else [alert_id, region]))

    def url(self, alert_id: str, region: str | None = None) -> str:
        """The acknowledge link to put in a notification about ``alert_id`` (of ``region``).

        With the region in the token, any alerts worker that receives the click can route it to the
        worker holding the region; the region is signed with the id, so it cannot be redirected.
        """
        return f"{self.public_url}/ack/{quote(alert_id, safe='')}?token={self.token(alert_id, region)}"

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
