"""An outage of something the writer depends on (the database, the dead-letter topic): the pauses between
retries (doubling from ``initial`` up to ``cap``) and its log lines, one warning when it begins and one
info line when it ends, however many retries it takes (each retry is a debug line)."""

from __future__ import annotations

import time
from collections.abc import Callable

from services.runtime import logs

log = logs.get("pantau.history")


class Outage:
    def __init__(
        self,
        what: str,
        *,
        initial: float,
        cap: float,
        on_change: Callable[[bool], None] = lambda _up: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.initial = initial
        self.cap = max(cap, initial)
        self.on_change = on_change
        self.clock = clock
        self.down = False
        self.since = 0.0
        self.retries = 0
        self.delay = initial

    def failed(self, exc: BaseException) -> float:
        """Record a failed attempt; the pause (s) before the next one."""
        self.on_change(False)
        if not self.down:
            self.down, self.since, self.retries, self.delay = True, self.clock(), 0, self.initial
            log.warning(f"history.{self.what}_unavailable", error=_short(exc), retry_in=self.delay,
                        note="consumption paused; nothing is lost, it resumes by itself")  # fmt: skip
        else:
            self.delay = min(self.cap, self.delay * 2)
            log.debug(f"history.{self.what}_still_unavailable", error=_short(exc), retry_in=self.delay)
        self.retries += 1
        return self.delay

    def ok(self) -> None:
        """An attempt succeeded: the outage, if any, is over."""
        self.on_change(True)
        if self.down:
            self.down = False
            log.info(f"history.{self.what}_back", after_s=round(self.clock() - self.since, 1), retries=self.retries)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
