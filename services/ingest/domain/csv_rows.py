"""CSV rows of a statistical series -> indicator-event documents. Pure (the file is read elsewhere).

A period becomes the event time at the *end* of the period, as the framework dates yearly figures
(``2024`` -> 2024-12-31, ``2024-06`` -> 2024-06-30, ``2024-Q2`` -> 2024-06-30, a date -> that date),
at 00:00 in the region's own time zone (WIB, WITA or WIT: a BPS year is the region's year). A period
still running at the import time (this year's preliminary figure) is dated at the import time, never
ahead of it; a period that has not begun is an error. The event id is derived from indicator, region,
period end and value, not from the import time: importing the same file again yields the same events
(duplicates downstream), a corrected value a new one.
"""

from __future__ import annotations

import calendar
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from schemas.reasons import INVALID_VALUE, MISSING_FIELD, OBSERVED_IN_FUTURE
from schemas.timezones import zone_of_region
from schemas.validation import Problem

NAMESPACE = uuid.UUID("0b6f7a64-3c1e-5f0d-8e2a-9d4c6b1a2e53")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class CsvSpec:
    """Which columns hold what. ``indicator_column``/``unit_column`` are used when the file has them."""

    indicator: str
    period_column: str
    value_column: str = "value"
    region_column: str = "region_code"
    indicator_column: str = "indicator_code"
    unit_column: str = "unit"
    unit: str | None = None  # overrides the unit column; neither: the indicator's unit
    source: str = "csv-import"


@dataclass(frozen=True)
class Period:
    """A period of a series: its first instant and its event time (its last day, or the instant given)."""

    start: datetime
    end: datetime

    def observed_at(self, now: datetime) -> datetime:
        """The event time of a reading of this period imported at ``now``: its end, or ``now`` while it runs."""
        return min(self.end, now)


def parse_period(text: str, zone: timezone) -> Period:
    """The period ``text`` names, its days in ``zone``. ValueError when it is none of the forms.

    ``2024`` runs from 2024-01-01 and is dated 2024-12-31; ``2024-06`` and ``2024-Q2`` are dated
    2024-06-30; a date is its own day; a date-time must carry its zone and is that instant.
    """
    t = text.strip()
    if m := _YEAR.match(t):
        year = int(m[1])
        return Period(datetime(year, 1, 1, tzinfo=zone), datetime(year, 12, 31, tzinfo=zone))
    if m := _MONTH.match(t):
        year, month = int(m[1]), int(m[2])
        return _months(year, month, month, zone)
    if m := _QUARTER.match(t):
        year, last = int(m[1]), int(m[2]) * 3
        return _months(year, last - 2, last, zone)
    at = datetime.fromisoformat(t)  # a date or a date-time; ValueError otherwise
    if at.tzinfo is None:
        if len(t) > 10:
            raise ValueError(f"{t!r} has no time zone")
        at = at.replace(tzinfo=zone)
    return Period(at, at)


def _months(year: int, first: int, last: int, zone: timezone) -> Period:
    if not 1 <= first <= last <= 12:
        raise ValueError(f"no month {last} in a year")
    end = datetime(year, last, calendar.monthrange(year, last)[1], tzinfo=zone)
    return Period(datetime(year, first, 1, tzinfo=zone), end)


def check_header(header: Sequence[str], spec: CsvSpec) -> None:
    """ValueError naming the columns the spec needs and the file lacks."""
    needed = [spec.region_column, spec.period_column, spec.value_column]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}; the file has: {', '.join(header)}")


def rows_to_documents(
    rows: Iterable[dict[str, str]], spec: CsvSpec, indicator_unit: str, *, now: datetime, first_line: int = 2
) -> Iterator[tuple[int, dict[str, Any] | Problem | None]]:
    """(line, event document | problem | None) per row, imported at ``now``; None for rows of another indicator."""
    for line, row in enumerate(rows, start=first_line):
        code = row.get(spec.indicator_column)
        if code is not None and code.strip() != spec.indicator:
            yield line, None
            continue
        yield line, _document(row, spec, indicator_unit, now)


def _document(row: dict[str, str], spec: CsvSpec, indicator_unit: str, now: datetime) -> dict[str, Any] | Problem:
    region = (row.get(spec.region_column) or "").strip()
    if not region:
        return Problem(MISSING_FIELD, spec.region_column, "empty")
    raw_value = (row.get(spec.value_column) or "").strip()
    try:
        value = float(raw_value)
    except ValueError:
        return Problem(INVALID_VALUE, spec.value_column, f"{raw_value!r} is not a number")
    if not math.isfinite(value):
        return Problem(INVALID_VALUE, spec.value_column, f"{raw_value!r} is not a finite number")
    period = (row.get(spec.period_column) or "").strip()
    try:
        span = parse_period(period, zone_of_region(region))
    except ValueError:
        return Problem(
            INVALID_VALUE, spec.period_column, f"{period!r} is not a period (YYYY, YYYY-MM, YYYY-Qn, a date)"
        )
    if span.start > now:
        local_now = now.astimezone(span.start.tzinfo).replace(microsecond=0)
        return Problem(OBSERVED_IN_FUTURE, spec.period_column,
                       f"{period!r} has not begun: it starts {span.start.isoformat()} {span.start.tzname()}, "
                       f"after the import time {local_now.isoformat()}")  # fmt: skip
    unit = spec.unit or (row.get(spec.unit_column) or "").strip() or indicator_unit
    return {
        "event_id": str(uuid.uuid5(NAMESPACE, f"{spec.indicator}|{region}|{span.end.isoformat()}|{value!r}")),
        "region_code": region,
        "indicator_id": spec.indicator,
        "value": value,
        "unit": unit,
        "observed_at": span.observed_at(now).isoformat(),
        "source": spec.source,
        "attributes": {"period": period[:256]},
    }
