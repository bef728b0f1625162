"""One HTTP POST attempt, its failure classified for the retry policy (webhook and Alertmanager)."""

from __future__ import annotations

import httpx

from services.alerts.notify.retry import DeliveryError, http_status_retryable, retry_after_seconds


async def post(client: httpx.AsyncClient, url: str, content: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``content``; the status on 2xx, else a :class:`DeliveryError` that says whether to retry."""
    try:
        resp = await client.post(url, content=content, headers=headers, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timed out ({type(exc).__name__})", retryable=True) from None
    except httpx.TransportError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from None
    if resp.is_success:
        return resp.status_code
    raise DeliveryError(
        f"HTTP {resp.status_code}: {resp.text[:200]}",
        retryable=http_status_retryable(resp.status_code),
        status=resp.status_code,
        retry_after=retry_after_seconds(resp.headers.get("retry-after")),
    )
