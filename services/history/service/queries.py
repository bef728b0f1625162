"""The history store's questions, answered for the API and the command line (read-only).

``HistoryQueries`` checks what it is asked (a known region, a framework with history, dates in order, a
bounded number of points) and raises :class:`QueryError` with what is wrong; the views are worked out by
services/history/domain/views.py. Plan versions are read once and then only the new ones, at most every
``plans_ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

from pydantic import ValidationError

from schemas.masterplan import Masterplan
from schemas.regions import RegionRegistry
from schemas.timezones import local_midnight
from services.history.domain.periods import Resolution, count, periods
from services.history.domain.rows import BadRecord, split_framework
from services.history.domain.views import (
    Aggregate,
    AlertSummary,
    Closing,
    FrameworkRange,
    PlanBook,
    PlanVersion,
    Progress,
    Ranked,
    SeriesPoint,
    Transition,
    daily,
    progress,
    ranking,
    series,
    summarise,
)
from services.runtime import logs

log = logs.get("pantau.history")

RegionType = Literal["kabupaten", "kota"]


class QueryError(ValueError):
    """A question that cannot be answered as asked; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class Reads(Protocol):
    def region_days(self, region: str, framework: tuple[str, str], start: date, end: date) -> list[Closing]: ...
    def region_periods(
        self, region: str, framework: tuple[str, str], start: date, end: date, unit: str
    ) -> dict[date, Aggregate]: ...
    def latest_on(self, codes: Sequence[str], framework: tuple[str, str], on: date) -> list[Closing]: ...
    def frameworks(self) -> list[FrameworkRange]: ...
    def day_span(self) -> tuple[date, date] | None: ...
    def transitions(
        self, region: str, since: datetime, before: datetime, state: str | None, limit: int
    ) -> list[Transition]: ...
    def alert(self, alert_id: str) -> list[Transition]: ...
    def open_alerts(self, province: str | None, region: str | None, limit: int) -> list[AlertSummary]: ...
    def plans(self, since: datetime | None = None) -> list[PlanVersion]: ...
    def ping(self) -> None: ...


@dataclass(frozen=True)
class RegionSeries:
    region_code: str
    framework: str
    resolution: Resolution
    start: date
    end: date
    points: list[SeriesPoint]


@dataclass(frozen=True)
class Standing:
    on: date
    framework: str
    regions: list[Ranked]
    total: int  # regions with a closing snapshot as of ``on``, before the filters


class HistoryQueries:
    def __init__(
        self,
        reads: Reads,
        registry: RegionRegistry,
        framework: str,
        levels: Sequence[int],
        *,
        max_points: int = 20_000,
        plans_ttl: float = 30.0,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.reads, self.registry, self.framework, self.levels = reads, registry, framework, list(levels)
        self.max_points, self.plans_ttl, self.today = max_points, plans_ttl, today
        self._book = PlanBook()
        self._book_seen: datetime | None = None
        self._book_has: set[tuple[str, str]] = set()  # (region, plan hash) in the book
        self._book_read = -float("inf")
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ checks

    def region(self, code: str) -> str:
        if code not in self.registry:
            raise QueryError(404, "unknown_region", f"no kabupaten/kota has the code {code!r} (e.g. 32.73)", "code")
        return code

    def framework_key(self, framework: str | None) -> tuple[str, tuple[str, str]]:
        key = framework or self.framework
        try:
            return key, split_framework(key)
        except BadRecord:
            raise QueryError(422, "invalid_framework", f"framework {key!r} is not 'id@version'", "framework") from None

    def _dates(self, start: date | None, end: date | None, resolution: Resolution | None) -> tuple[date, date]:
        """The days asked (default: 1 January of ``end``'s year to today), in order; with ``resolution``, at
        most ``max_points`` periods of it."""
        end = end or self.today()
        start = start or date(end.year, 1, 1)
        if end < start:
            raise QueryError(422, "dates_out_of_order", f"'to' ({end}) is before 'from' ({start})", "to")
        n = 0 if resolution is None else count(start, end, resolution)
        if resolution is not None and n > self.max_points:
            raise QueryError(
                422, "too_many_points", f"{n} {resolution.value} periods from {start} to {end}; at most "
                f"{self.max_points}: choose a coarser resolution or a shorter range", "resolution",
            )  # fmt: skip
        return start, end

    # ------------------------------------------------------------------ plans

    def plans(self) -> PlanBook:
        """The plan versions, refreshed (only the new ones) at most every ``plans_ttl`` seconds."""
        with self._lock:
            if time.monotonic() - self._book_read < self.plans_ttl:
                return self._book
            for v in self.reads.plans(self._book_seen):
                if (v.region_code, v.plan_hash) in self._book_has:
                    continue
                self._book_has.add((v.region_code, v.plan_hash))
                try:
                    self._book.add(v.region_code, v.received_at, Masterplan.model_validate(v.payload))
                except ValidationError as exc:  # a version the writer stored under an older contract
                    log.warning("history.plan_unreadable", region=v.region_code, received=v.received_at.isoformat(),
                                error=str(exc).splitlines()[0])  # fmt: skip
                seen = self._book_seen
                self._book_seen = v.received_at if seen is None else max(seen, v.received_at)
            self._book_read = time.monotonic()
            return self._book

    # ------------------------------------------------------------------ questions

    def region_series(
        self, code: str, start: date | None, end: date | None, resolution: Resolution, framework: str | None = None
    ) -> RegionSeries:
        region = self.region(code)
        key, fw = self.framework_key(framework)
        start, end = self._dates(start, end, resolution)
        if resolution is Resolution.DAY:
            aggregates = daily(self.reads.region_days(region, fw, start, end))
        else:
            aggregates = self.reads.region_periods(region, fw, start, end, resolution.value)
        points = series(aggregates, periods(start, end, resolution), self.plans(), region)
        return RegionSeries(region, key, resolution, start, end, points)

    def standing(
        self,
        on: date | None,
        framework: str | None = None,
        *,
        province: str | None = None,
        region_type: RegionType | None = None,
        level: int | None = None,
    ) -> Standing:
        on = on or self.today()
        key, fw = self.framework_key(framework)
        if province is not None and province not in self.registry.provinces:
            raise QueryError(404, "unknown_province", f"no province has the code {province!r} (e.g. 32)", "province")
        if level is not None and level not in self.levels:
            raise QueryError(422, "unknown_level", f"level {level} is not one of {self.levels}", "level")
        closings = self.reads.latest_on(sorted(self.registry.regions), fw, on)
        keep = {
            c.region_code for c in closings
            if (province is None or c.region_code[:2] == province)
            and (region_type is None or self.registry.get(c.region_code).type == region_type)
            and (level is None or c.level == level)
        }  # fmt: skip
        return Standing(on, key, ranking(closings, on, self.plans(), keep), total=len(closings))

    def plan(self, code: str, on: date | None) -> tuple[date, Masterplan]:
        """The region's plan in force on ``on`` (default today): the version the history store saw last by then."""
        self.region(code)
        day = on or datetime.now(UTC).date()
        path = self.plans().path_on(code, day)
        if path is None:
            raise QueryError(404, "no_plan", f"the history store holds no masterplan for {code}", "code")
        return day, path.plan

    def alerts(
        self, code: str, start: date | None, end: date | None, state: str | None, limit: int
    ) -> tuple[date, date, list[Transition]]:
        region = self.region(code)
        start, end = self._dates(start, end, None)
        # The region's own days: from the start of ``start`` to the end of ``end`` on its local clock.
        since, before = local_midnight(start, region), local_midnight(end + timedelta(days=1), region)
        return start, end, self.reads.transitions(region, since, before, state, limit)

    def open_alerts(self, province: str | None, region: str | None, limit: int) -> list[AlertSummary]:
        """The alerts open now (their newest transition firing or acknowledged), in the province and the region
        when given (both: the region if it is in the province), most severe first, then the widest gap."""
        if province is not None and province not in self.registry.provinces:
            raise QueryError(404, "unknown_province", f"no province has the code {province!r} (e.g. 32)", "province")
        if region is not None and region not in self.registry:
            raise QueryError(404, "unknown_region", f"no kabupaten/kota has the code {region!r} (e.g. 32.73)",
                             "region")  # fmt: skip
        found = self.reads.open_alerts(province, region, limit)
        unknown = {a.latest.region_code for a in found if a.latest.region_code not in self.registry}
        if unknown:  # stored under another registry: listed nowhere rather than failing the whole list
            log.warning("history.alerts_of_unknown_regions", regions=sorted(unknown))
            found = [a for a in found if a.latest.region_code not in unknown]
        return found

    def alert(self, alert_id: str) -> tuple[AlertSummary, list[Transition]]:
        """One alert as of its newest transition, and all its transitions, newest first."""
        transitions = self.reads.alert(alert_id)
        if not transitions:
            raise QueryError(404, "unknown_alert", f"no alert {alert_id!r} in the history store", "alert_id")
        return summarise(transitions), transitions

    def programme(
        self, start: date | None, end: date | None, resolution: Resolution, framework: str | None = None
    ) -> tuple[str, list[Progress]]:
        if resolution in (Resolution.DAY, Resolution.WEEK):
            raise QueryError(422, "resolution_too_fine", "programme progress is by month or year", "resolution")
        key, fw = self.framework_key(framework)
        start, end = self._dates(start, end, resolution)
        codes = sorted(self.registry.regions)
        book = self.plans()
        # Every region as of a day before the first stored day is nobody, and as of a day after the last one is
        # as of the last: only the periods in between are read (a range of centuries is a few queries).
        span = self.reads.day_span()
        after: list[Closing] | None = None
        out = []
        for p in periods(start, end, resolution):
            if span is None or p.until < span[0]:
                closings: list[Closing] = []
            elif p.until >= span[1]:
                after = self.reads.latest_on(codes, fw, span[1]) if after is None else after
                closings = after
            else:
                closings = self.reads.latest_on(codes, fw, p.until)
            out.append(progress(p, closings, book, self.levels))
        return key, out

    def frameworks(self) -> list[FrameworkRange]:
        return self.reads.frameworks()
