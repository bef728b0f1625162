"""CSV import planning (no Kafka): periods, errors that name the line, and the shipped BPS series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.framework import load_framework
from schemas.regions import DATA_DIR, default_registry
from schemas.timezones import WIB, WIT, WITA, zone_of
from schemas.validation import TimeLimits
from services.ingest.domain.csv_rows import CsvSpec, parse_period
from services.ingest.domain.intake import Rules
from services.ingest.importer import plan_import

BPS = DATA_DIR / "indicator_observations_bps.csv"
NOW = datetime(2026, 11, 27, tzinfo=UTC)
RULES = Rules(default_registry(), load_framework(), TimeLimits(timedelta(minutes=5), timedelta(days=3650)))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # Days are the region's (here WIB, UTC+7): 2024-12-31 00:00 WIB is 2024-12-30 17:00 UTC.
        ("2024", datetime(2024, 1, 1, tzinfo=WIB), datetime(2024, 12, 30, 17, tzinfo=UTC)),
        ("2024-02", datetime(2024, 2, 1, tzinfo=WIB), datetime(2024, 2, 29, tzinfo=WIB)),  # a leap year
        ("2023-02", datetime(2023, 2, 1, tzinfo=WIB), datetime(2023, 2, 28, tzinfo=WIB)),
        ("2024-Q2", datetime(2024, 4, 1, tzinfo=WIB), datetime(2024, 6, 30, tzinfo=WIB)),
        ("2024q4", datetime(2024, 10, 1, tzinfo=WIB), datetime(2024, 12, 31, tzinfo=WIB)),
        ("2024-05-17", datetime(2024, 5, 16, 17, tzinfo=UTC), datetime(2024, 5, 16, 17, tzinfo=UTC)),
        # A date-time is the instant it names, whatever the region's zone.
        ("2024-05-17T10:00:00+07:00", datetime(2024, 5, 17, 3, tzinfo=UTC), datetime(2024, 5, 17, 3, tzinfo=UTC)),
    ],
)
def test_a_period_starts_on_its_first_day_and_is_dated_at_its_end(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text, WIB)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["", "24", "2024-13", "2024-00", "2024-Q5", "2024-05-17T10:00:00"])
def test_what_is_not_a_period(text: str) -> None:
    with pytest.raises(ValueError):
        parse_period(text, WIB)


@pytest.mark.parametrize(
    ("province", "zone"),
    [("11", WIB), ("31", WIB), ("61", WIB), ("62", WIB), ("51", WITA), ("53", WITA), ("63", WITA), ("65", WITA),
     ("71", WITA), ("76", WITA), ("81", WIT), ("82", WIT), ("91", WIT), ("96", WIT)],
)  # fmt: skip
def test_each_province_keeps_its_zone(province: str, zone: object) -> None:
    assert zone_of(province) is zone


# Imported on 2026-12-01 10:00 WIB (03:00 UTC): the year 2026, its December and today are still running.
DEC_1 = datetime(2026, 12, 1, 3, tzinfo=UTC)


def _one_row(tmp_path: Path, rows: str, now: datetime) -> tuple[list[datetime], list[str]]:
    f = tmp_path / "series.csv"
    f.write_text("region_code,tahun,nilai\n" + rows)
    plan = plan_import(f, CsvSpec(indicator="IPM", period_column="tahun", value_column="nilai"), RULES,
                       publisher="p", now=now)  # fmt: skip
    return [e.observed_at for e in plan.events], plan.describe_problems()


@pytest.mark.parametrize(
    ("region", "period", "expected"),
    [
        ("32.73", "2026", DEC_1),  # running: dated at the import time, not at 2026-12-31
        ("32.73", "2026-12", DEC_1),
        ("32.73", "2026-Q4", DEC_1),
        ("32.73", "2026-12-01", datetime(2026, 11, 30, 17, tzinfo=UTC)),  # today in Bandung began at 00:00 WIB
        ("32.73", "2026-11", datetime(2026, 11, 29, 17, tzinfo=UTC)),  # over: 2026-11-30 00:00 WIB
        ("32.73", "2025", datetime(2025, 12, 30, 17, tzinfo=UTC)),
        ("94.01", "2025", datetime(2025, 12, 30, 15, tzinfo=UTC)),  # Papua Tengah: 2025-12-31 00:00 WIT
    ],
)
def test_a_running_period_is_dated_no_later_than_the_import(
    tmp_path: Path, region: str, period: str, expected: datetime
) -> None:
    assert _one_row(tmp_path, f"{region},{period},70\n", DEC_1) == ([expected], [])


def test_todays_date_is_the_regions_today(tmp_path: Path) -> None:
    # 2026-11-30 23:30 UTC: already 2026-12-01 08:30 in Jayapura (WIT), still 2026-12-01 06:30 in Bandung,
    # but 2026-11-30 in UTC. Under UTC days the Jayapura row would be dated 30 minutes ahead.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    events, problems = _one_row(tmp_path, "91.71,2026-12-01,70\n", late)
    assert (events, problems) == ([datetime(2026, 11, 30, 15, tzinfo=UTC)], [])


def test_a_period_that_has_not_begun_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "series.csv"
    events, problems = _one_row(tmp_path, "32.73,2026,70\n32.73,2027,71\n32.73,2026-12-02,72\n", DEC_1)
    assert events == [DEC_1]
    assert problems == [
        f"{f}:3: tahun: '2027' has not begun: it starts 2027-01-01T00:00:00+07:00 WIB, after the import time "
        "2026-12-01T10:00:00+07:00 [observed_in_future]",
        f"{f}:4: tahun: '2026-12-02' has not begun: it starts 2026-12-02T00:00:00+07:00 WIB, after the import time "
        "2026-12-01T10:00:00+07:00 [observed_in_future]",
    ]


def test_a_time_problem_names_the_period_column(tmp_path: Path) -> None:
    f = tmp_path / "series.csv"
    _, problems = _one_row(tmp_path, "32.73,2010,70\n", DEC_1)  # more than 3650 days before the import
    assert problems == [
        f"{f}:2: tahun: 2010-12-31T00:00:00+07:00 is more than 3650 days before 2026-12-01T03:00:00+00:00 "
        "[observed_too_old]"
    ]


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
            datetime(2020, 12, 31, tzinfo=WIB),  # Aceh keeps WIB
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
