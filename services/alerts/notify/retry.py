"""When a failed delivery is tried again, and how long to wait: one policy for every channel.

A channel turns each failed attempt into a :class:`DeliveryError` that says whether another attempt
may succeed (a timeout, a refused connection, HTTP 408/429/5xx, an SMTP 4xx reply) or not (any other
HTTP 4xx, an SMTP 5xx reply). Retryable failures are tried again after a wait drawn uniformly from
``[0, min(max_wait, base * 2**retry)]`` ("full jitter"), or at least as long as the receiver's
``Retry-After`` asks (still capped).
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential
from tenacity.wait import wait_base

T = TypeVar("T")


class DeliveryError(Exception):
    """One failed attempt. ``retryable``: another attempt may succeed."""

    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.attempts = 1


def http_status_retryable(status: int) -> bool:
    """408 (timeout), 429 (slow down) and 5xx are worth another attempt; other 4xx mean fix the request."""
    return status in (408, 429) or status >= 500


def smtp_code_retryable(code: int) -> bool:
    """SMTP 4yz replies are transient by definition (RFC 5321 4.2.1); 5yz are permanent."""
    return 400 <= code < 500


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The ``Retry-After`` header as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5
    base: float = 0.5
    max_wait: float = 30.0
    attempt_timeout: float = 10.0

    def ceiling(self, retry: int) -> float:
        """Upper bound of the wait before retry number ``retry`` (1-based)."""
        return min(self.max_wait, self.base * 2.0 ** (retry - 1))

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        on_attempt: Callable[[], None] = lambda: None,
        on_retry: Callable[[DeliveryError, float], None] = lambda _exc, _wait: None,
    ) -> tuple[T, int]:
        """Run ``attempt`` until it succeeds, fails for good or the retries run out: (result, attempts).

        Each attempt gets ``attempt_timeout`` seconds. The last :class:`DeliveryError` is raised when
        every attempt failed; its ``attempts`` attribute says how many were made.
        """
        count = 0

        async def once() -> T:
            nonlocal count
            count += 1
            on_attempt()
            try:
                async with asyncio.timeout(self.attempt_timeout):
                    return await attempt()
            except TimeoutError:
                raise DeliveryError(f"no answer within {self.attempt_timeout:g}s", retryable=True) from None

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            assert isinstance(exc, DeliveryError)
            on_retry(exc, state.upcoming_sleep)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=_FullJitterOrRetryAfter(self),
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            result: T = await retrying(once)
        except DeliveryError as exc:
            exc.attempts = count
            raise
        return result, count


class _FullJitterOrRetryAfter(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.jitter = wait_random_exponential(multiplier=policy.base, max=policy.max_wait)

    def __call__(self, retry_state: RetryCallState) -> float:
        wait = float(self.jitter(retry_state))
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, DeliveryError) and exc.retry_after is not None:
            wait = max(wait, min(exc.retry_after, self.policy.max_wait))
        return wait
