"""The retry policy: which failures are tried again, how long to wait, when to give up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.alerts.notify.retry import (
    DeliveryError,
    RetryPolicy,
    http_status_retryable,
    retry_after_seconds,
    smtp_code_retryable,
)


@pytest.mark.parametrize(
    ("status", "retry"),
    [(400, False), (401, False), (403, False), (404, False), (410, False), (422, False), (301, False),
     (408, True), (429, True), (500, True), (502, True), (503, True), (504, True)],
)  # fmt: skip
def test_http_statuses(status: int, retry: bool) -> None:
    assert http_status_retryable(status) is retry


@pytest.mark.parametrize(("code", "retry"), [(421, True), (450, True), (451, True), (535, False), (550, False)])
def test_smtp_replies(code: int, retry: bool) -> None:
    assert smtp_code_retryable(code) is retry


def test_retry_after_header() -> None:
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Fri, 27 Nov 2026 08:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Fri, 27 Nov 2026 07:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base=0.5, max_wait=3.0)
    assert [policy.ceiling(r) for r in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


class Script:
    """An attempt function that fails as scripted, then succeeds."""

    def __init__(self, *failures: DeliveryError | float) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, float):
                await asyncio.sleep(failure)
            else:
                raise failure
        return "ok"


def run(policy: RetryPolicy, attempt: Script) -> tuple[str, int, list[float], int]:
    waits: list[float] = []
    counted = 0

    def on_attempt() -> None:
        nonlocal counted
        counted += 1

    result, attempts = asyncio.run(
        policy.run(attempt, on_attempt=on_attempt, on_retry=lambda _exc, wait: waits.append(wait))
    )
    return result, attempts, waits, counted


FAST = RetryPolicy(retries=3, base=0.004, max_wait=0.02, attempt_timeout=0.2)


def test_transient_failures_are_retried_with_jittered_waits() -> None:
    attempt = Script(DeliveryError("503", retryable=True), DeliveryError("timeout", retryable=True))
    result, attempts, waits, counted = run(FAST, attempt)
    assert (result, attempts, counted, attempt.calls) == ("ok", 3, 3, 3)
    assert len(waits) == 2
    assert 0 <= waits[0] <= FAST.ceiling(1) and 0 <= waits[1] <= FAST.ceiling(2)


def test_a_permanent_failure_is_not_retried() -> None:
    attempt = Script(DeliveryError("404", retryable=False, status=404))
    with pytest.raises(DeliveryError) as err:
        run(FAST, attempt)
    assert (err.value.attempts, err.value.status, attempt.calls) == (1, 404, 1)


def test_gives_up_after_the_retries() -> None:
    attempt = Script(*(DeliveryError("500", retryable=True) for _ in range(10)))
    with pytest.raises(DeliveryError) as err:
        run(FAST, attempt)
    assert err.value.attempts == attempt.calls == FAST.retries + 1


def test_each_attempt_has_its_own_timeout() -> None:
    attempt = Script(1.0)  # the first attempt hangs
    result, attempts, waits, _ = run(FAST, attempt)
    assert (result, attempts, len(waits)) == ("ok", 2, 1)


def test_retry_after_lengthens_the_wait_but_not_past_the_cap() -> None:
    policy = RetryPolicy(retries=2, base=0.001, max_wait=0.05, attempt_timeout=1)
    attempt = Script(DeliveryError("429", retryable=True, retry_after=0.03),
                     DeliveryError("429", retryable=True, retry_after=3600))  # fmt: skip
    _, _, waits, _ = run(policy, attempt)
    assert 0.03 <= waits[0] <= 0.05
    assert waits[1] == 0.05
