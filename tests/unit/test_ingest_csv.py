"""CSV import planning (no Kafka): periods, errors that name the line, and the shipped BPS series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.framework import load_framework
from schemas.regions import DATA_DIR, default_registry
from schemas.validation import TimeLimits
from services.ingest.domain.csv_rows import CsvSpec, period_end
from services.ingest.domain.intake import Rules
from services.ingest.importer import plan_import

BPS = DATA_DIR / "indicator_observations_bps.csv"
NOW = datetime(2026, 11, 27, tzinfo=UTC)
RULES = Rules(default_registry(), load_framework(), TimeLimits(timedelta(minutes=5), timedelta(days=3650)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", datetime(2024, 12, 31, tzinfo=UTC)),
        ("2024-02", datetime(2024, 2, 29, tzinfo=UTC)),  # a leap year
        ("2023-02", datetime(2023, 2, 28, tzinfo=UTC)),
        ("2024-Q2", datetime(2024, 6, 30, tzinfo=UTC)),
        ("2024q4", datetime(2024, 12, 31, tzinfo=UTC)),
        ("2024-05-17", datetime(2024, 5, 17, tzinfo=UTC)),
        ("2024-05-17T10:00:00+07:00", datetime(2024, 5, 17, 3, tzinfo=UTC)),
    ],
)
def test_a_period_is_dated_at_its_end(text: str, expected: datetime) -> None:
    assert period_end(text) == expected


@pytest.mark.parametrize("text", ["", "24", "2024-13", "2024-Q5", "2024-05-17T10:00:00"])
def test_what_is_not_a_period(text: str) -> None:
    with pytest.raises(ValueError):
        period_end(text)


@pytest.mark.parametrize(("indicator", "periods"), [("IPM", 5), ("P0", 1)])
def test_the_bps_file_loads_every_regions_series(indicator: str, periods: int) -> None:
    plan = plan_import(
        BPS, CsvSpec(indicator=indicator, period_column="period", source="bps"), RULES, publisher="bps-import", now=NOW
    )
    assert plan.problems == []
    assert plan.rows == 3084 and len(plan.events) == 514 * periods and plan.skipped == 3084 - 514 * periods
    assert len({e.region_code for e in plan.events}) == 514
    assert len({e.event_id for e in plan.events}) == len(plan.events)
    bandung = {e.observed_at.year: e.value for e in plan.events if e.region_code == "32.73"}
    assert len(bandung) == periods
    if indicator == "IPM":
        first = next(e for e in plan.events if e.region_code == "11.01" and e.observed_at.year == 2020)
        # First data row of the file: 11.01, IPM, 2020, 67.12.
        assert (first.value, first.unit, first.observed_at, first.publisher, first.source) == (
            67.12,
            "index 0-100",
            datetime(2020, 12, 31, tzinfo=UTC),
            "bps-import",
            "bps",
        )
    # Planning twice gives the same event ids: importing again adds nothing new.
    again = plan_import(
        BPS, CsvSpec(indicator=indicator, period_column="period", source="bps"), RULES, publisher="bps-import", now=NOW
    )
    assert [e.event_id for e in again.events] == [e.event_id for e in plan.events]


def test_errors_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "series.csv"
    f.write_text(
        "region_code,tahun,nilai\n"
        "32.73,2024,81.5\n"  # line 2: fine
        "99.99,2024,70\n"  # line 3: unknown region
        "32.73,2024,abc\n"  # line 4: not a number
        "32.74,20x4,70\n"  # line 5: not a period
        "32.75,2024,170\n"  # line 6: out of IPM's bounds [0, 100]
    )
    plan = plan_import(
        f, CsvSpec(indicator="IPM", period_column="tahun", value_column="nilai"), RULES, publisher="p", now=NOW
    )
    assert len(plan.events) == 1 and plan.events[0].unit == "index 0-100"  # no unit column: the indicator's
    assert [(line, p.code) for line, p in plan.problems] == [
        (3, "unknown_region"),
        (4, "invalid_value"),
        (5, "invalid_value"),
        (6, "out_of_bounds"),
    ]
    lines = plan.describe_problems()
    assert lines[0] == f"{f}:3: region_code: '99.99' is not in registry kepmendagri-2025 [unknown_region]"
    assert lines[1] == f"{f}:4: nilai: 'abc' is not a number [invalid_value]"


def test_a_missing_column_or_indicator_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("kode,tahun,nilai\n32.73,2024,1\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) region_code; the file has: kode, tahun, nilai"):
        plan_import(f, CsvSpec(indicator="IPM", period_column="tahun", value_column="nilai"), RULES, publisher="p")
    with pytest.raises(ValueError, match="'NOPE' is not in"):
        plan_import(f, CsvSpec(indicator="NOPE", period_column="tahun"), RULES, publisher="p")
