"""Calendar periods of a history query: day, ISO week (Monday to Sunday), month, year.

A series between two days is cut into the periods that meet [start, end]; each keeps its calendar bounds
(``first``, ``last``) and the part of it inside the query (``since``, ``until``). A period's value is its
closing snapshot: the region's last closing snapshot on or before ``until`` within the period.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Resolution(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Period:
    first: date  # the calendar period's first day
    last: date  # its last day
    since: date  # the first day of it inside the query
    until: date  # the last day of it inside the query

    @property
    def label(self) -> str:
        """``2025-03-04`` (day), ``2025-W10`` (ISO week), ``2025-03`` (month), ``2025`` (year)."""
        if self.first == self.last:
            return self.first.isoformat()
        if (self.last - self.first).days == 6 and self.first.isoweekday() == 1:
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.first.month == self.last.month and self.first.year == self.last.year:
            return f"{self.first:%Y-%m}"
        return f"{self.first:%Y}"


def bounds(day: date, resolution: Resolution) -> tuple[date, date]:
    """The first and last day of the period of ``resolution`` that contains ``day``."""
    if resolution is Resolution.DAY:
        return day, day
    if resolution is Resolution.WEEK:
        monday = day - timedelta(days=day.isoweekday() - 1)
        return monday, monday + timedelta(days=6)
    if resolution is Resolution.MONTH:
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return date(day.year, 1, 1), date(day.year, 12, 31)


def periods(start: date, end: date, resolution: Resolution) -> Iterator[Period]:
    """The periods that meet [start, end], in order, each clipped to it."""
    if end < start:
        raise ValueError(f"the end {end} is before the start {start}")
    day = start
    while day <= end:
        first, last = bounds(day, resolution)
        yield Period(first, last, max(first, start), min(last, end))
        day = last + timedelta(days=1)


def count(start: date, end: date, resolution: Resolution) -> int:
    """How many periods :func:`periods` yields (without making them)."""
    if resolution is Resolution.DAY:
        return (end - start).days + 1
    if resolution is Resolution.WEEK:
        return (bounds(end, resolution)[0] - bounds(start, resolution)[0]).days // 7 + 1
    if resolution is Resolution.MONTH:
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return end.year - start.year + 1
