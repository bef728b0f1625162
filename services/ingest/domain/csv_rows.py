"""CSV rows of a statistical series -> indicator-event documents. Pure (the file is read elsewhere).

A period becomes the event time at the *end* of the period, as the framework dates yearly figures
(``2024`` -> 2024-12-31, ``2024-06`` -> 2024-06-30, ``2024-Q2`` -> 2024-06-30, a date -> that date),
at 00:00 UTC. The event id is derived from indicator, region, period and value: importing the same
file again yields the same events (duplicates downstream), a corrected value a new one.
"""

from __future__ import annotations

import calendar
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.validation import INVALID_VALUE, MISSING_FIELD, Problem

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


def period_end(text: str) -> datetime:
    """The event time of a period: its last day, 00:00 UTC. ValueError when it is none of the forms."""
    t = text.strip()
    if m := _YEAR.match(t):
        return datetime(int(m[1]), 12, 31, tzinfo=UTC)
    if m := _MONTH.match(t):
        year, month = int(m[1]), int(m[2])
        return datetime(year, month, calendar.monthrange(year, month)[1], tzinfo=UTC)
    if m := _QUARTER.match(t):
        year, month = int(m[1]), int(m[2]) * 3
        return datetime(year, month, calendar.monthrange(year, month)[1], tzinfo=UTC)
    at = datetime.fromisoformat(t)  # a date or a date-time; ValueError otherwise
    if at.tzinfo is None:
        if len(t) > 10:
            raise ValueError(f"{t!r} has no time zone")
        at = at.replace(tzinfo=UTC)
    return at


def check_header(header: Sequence[str], spec: CsvSpec) -> None:
    """ValueError naming the columns the spec needs and the file lacks."""
    needed = [spec.region_column, spec.period_column, spec.value_column]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}; the file has: {', '.join(header)}")


def rows_to_documents(
    rows: Iterable[dict[str, str]], spec: CsvSpec, indicator_unit: str, *, first_line: int = 2
) -> Iterator[tuple[int, dict[str, Any] | Problem | None]]:
    """(line, event document | problem | None) per row; None for rows of another indicator."""
    for line, row in enumerate(rows, start=first_line):
        code = row.get(spec.indicator_column)
        if code is not None and code.strip() != spec.indicator:
            yield line, None
            continue
        yield line, _document(row, spec, indicator_unit)


def _document(row: dict[str, str], spec: CsvSpec, indicator_unit: str) -> dict[str, Any] | Problem:
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
        at = period_end(period)
    except ValueError:
        return Problem(
            INVALID_VALUE, spec.period_column, f"{period!r} is not a period (YYYY, YYYY-MM, YYYY-Qn, a date)"
        )
    unit = spec.unit or (row.get(spec.unit_column) or "").strip() or indicator_unit
    return {
        "event_id": str(uuid.uuid5(NAMESPACE, f"{spec.indicator}|{region}|{at.isoformat()}|{value!r}")),
        "region_code": region,
        "indicator_id": spec.indicator,
        "value": value,
        "unit": unit,
        "observed_at": at.isoformat(),
        "source": spec.source,
        "attributes": {"period": period[:256]},
    }
