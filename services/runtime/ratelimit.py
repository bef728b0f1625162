"""Rate limits per key (a publisher's API key, a reader's key or address), with the ``limits`` library
(sliding-window counters, in memory). Used by ingest (events per key) and the history API (requests).

Semantics: each key may send at most the configured number of *events* per window (a batch of n
costs n; a request that costs more than what is left is refused whole, 429, and costs nothing).
Several limits may be combined (``2000/second;60000/minute``): all must allow the request. The
counters live in this process: with several ingest processes behind a load balancer, each enforces
the limit on its own share (use a shared ``limits`` storage such as Redis to make it global).
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from pydantic import AfterValidator


def _parseable(spec: str) -> str:
    try:
        parse_many(spec)
    except ValueError as exc:
        raise ValueError(f"{spec!r} is not a rate in the 'limits' notation, e.g. '20/second;600/minute'") from exc
    return spec


#: A setting holding a rate limit (``2000/second;60000/minute``), checked when the settings are read.
RateSpec = Annotated[str, AfterValidator(_parseable)]


class RateLimiter:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.items: list[RateLimitItem] = parse_many(spec)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def take(self, key: str, cost: int = 1) -> float | None:
        """Spend ``cost`` events of ``key``'s allowance: None when allowed, else seconds to wait."""
        blocked = [item for item in self.items if not self.limiter.test(item, key, cost=cost)]
        if blocked:
            return self._retry_after(key, blocked)
        for item in self.items:
            self.limiter.hit(item, key, cost=cost)
        return None

    def exhausted(self, key: str) -> float | None:
        """Seconds to wait when ``key`` cannot send even one event now (spends nothing), else None."""
        blocked = [item for item in self.items if not self.limiter.test(item, key)]
        return self._retry_after(key, blocked) if blocked else None

    def _retry_after(self, key: str, blocked: list[RateLimitItem]) -> float:
        now = time.time()
        wait = max(self.limiter.get_window_stats(item, key).reset_time - now for item in blocked)
        return max(1.0, math.ceil(wait))
