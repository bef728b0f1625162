"""Plan files: YAML and CSV, errors that name the file, the region and the field; resolution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from schemas.framework import load_framework
from schemas.masterplan import (
    DEFAULT_MASTERPLAN_FILE,
    MasterplanFileError,
    expected_on,
    load_masterplan_file,
    resolve_plans,
)
from schemas.regions import default_registry

FW = load_framework()
REG = default_registry()


def test_the_shipped_national_plan_covers_every_region_to_2029() -> None:
    plans = resolve_plans([load_masterplan_file(DEFAULT_MASTERPLAN_FILE, FW, REG)], REG)
    assert len(plans) == 514 and all(p.basis == "national_default" for p in plans.values())
    assert max(m.due for m in plans["32.73"].milestones) == dt.date(2029, 12, 31)
    # 2.6 at the end of 2026, 2.9 at the end of 2027: halfway (2027-07-02, 183 of 365 days) by hand.
    assert expected_on(plans["32.73"], "index", dt.date(2027, 7, 2)) == pytest.approx(2.6 + 0.3 * 183 / 365)
    # The 2017 cohort (25) and 4 later participants are seeded as adopted.
    assert sum(p.programme.masterplan_adopted for p in plans.values()) == 29
    assert plans["15.71"].programme.cohort_year == 2017  # Kota Jambi


def test_a_region_plan_overrides_the_default_and_keeps_it_for_others(tmp_path: Path) -> None:
    f = tmp_path / "bandung.yaml"
    f.write_text("""
format: pantau-masterplan/1
framework_id: pp59_2022
regions:
  "32.73":
    plan_id: bandung-2029
    milestones: [{due: 2027-12-31, targets: {index: 3.8, governance: 4.0}}]
""")
    default = resolve_plans([load_masterplan_file(DEFAULT_MASTERPLAN_FILE, FW, REG)], REG)
    plans = resolve_plans([load_masterplan_file(f, FW, REG)], REG, default)
    assert plans["32.73"].basis == "region" and plans["32.73"].plan_id == "bandung-2029"
    assert plans["32.71"].basis == "national_default"
    # Loading the national default again does not replace a region's own plan.
    again = resolve_plans([load_masterplan_file(DEFAULT_MASTERPLAN_FILE, FW, REG)], REG, plans)
    assert again["32.73"].plan_id == "bandung-2029"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('regions: {"32.73": {plan_id: p, milestones: [{due: 2027-01-01, targets: {index: 7}}]}}',
         "region 32.73: milestones.0.targets.index"),
        ('regions: {"99.99": {plan_id: p, milestones: [{due: 2027-01-01, targets: {index: 3}}]}}',
         "region 99.99: not in region registry"),
        ('regions: {"32.73": {plan_id: p, milestones: [{due: 2027-01-01, targets: {mobility: 3}}]}}',
         "region 32.73: milestones.0.targets.mobility: not a dimension"),
        ('regions: {"32.73": {plan_id: p}}', "region 32.73: (entry)"),
    ],
)  # fmt: skip
def test_errors_name_the_file_the_region_and_the_field(tmp_path: Path, body: str, expected: str) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text(f"format: pantau-masterplan/1\nframework_id: pp59_2022\n{body}\n")
    with pytest.raises(MasterplanFileError) as err:
        load_masterplan_file(f, FW, REG)
    assert str(f) in str(err.value) and expected in str(err.value)


def test_csv_bulk_format_and_its_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "plans.csv"
    f.write_text("region_code,plan_id,due,target,score\n"
                 "national,nat,2026-12-31,index,2.5\n"
                 "32.73,bdg,2026-12-31,index,3.0\n"
                 "32.73,bdg,2026-12-31,governance,3.2\n"
                 "32.73,bdg,2027-12-31,index,3.4\n")  # fmt: skip
    plan = load_masterplan_file(f, FW, REG)
    assert plan.national_default is not None and plan.national_default.plan_id == "nat"
    bdg = plan.regions["32.73"].milestones or []
    assert [(m.due, m.targets) for m in bdg] == [
        (dt.date(2026, 12, 31), {"index": 3.0, "governance": 3.2}),
        (dt.date(2027, 12, 31), {"index": 3.4}),
    ]
    f.write_text("region_code,plan_id,due,target,score\n32.73,bdg,2026-13-01,index,3.0\n")
    with pytest.raises(MasterplanFileError, match=r"plans.csv:2: region 32.73"):
        load_masterplan_file(f, FW, REG)
