"""Webhooks signed per the Standard Webhooks spec (https://www.standardwebhooks.com/).

Headers: ``webhook-id`` (the notification id: the same on every retry and re-send),
``webhook-timestamp`` (seconds, per attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the endpoint's ``whsec_`` key).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from standardwebhooks import Webhook

from services.alerts.notify import transport

USER_AGENT = "pantau-notify/1"


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with ``secret`` (``whsec_...``)."""
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def payload(alert_json: dict[str, Any], **extra: Any) -> bytes:
    """The request body: the alert event's fields plus ``extra`` (level, ack_url, names)."""
    return orjson.dumps({**alert_json, **extra})


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, timeout: float, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.timeout = timeout
        self.clock = clock

    async def send(self, url: str, secret: str, msg_id: str, body: bytes) -> int:
        """One attempt, signed afresh (a retry carries a new timestamp, the same id)."""
        headers = {
            **signed_headers(secret, msg_id, int(self.clock()), body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        return await transport.post(self.client, url, body, headers, self.timeout)
