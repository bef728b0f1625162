"""Plan files: YAML and CSV, errors that name the file, the line, the region and the field; resolution and
the programme status a file does (not) state. Malformed input through the CLI: test_masterplan_bad_input.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from schemas.framework import load_framework
from schemas.masterplan import (
    DEFAULT_MASTERPLAN_FILE,
    Masterplan,
    MasterplanFileError,
    ProgrammeStatus,
    expected_on,
    load_masterplan_file,
    resolve_plans,
)
from schemas.regions import default_registry

FW = load_framework()
REG = default_registry()


def test_the_shipped_national_plan_covers_every_region_to_2029() -> None:
    plans = _national()
    assert len(plans) == 514 and all(p.basis == "national_default" for p in plans.values())
    assert max(m.due for m in plans["32.73"].milestones) == dt.date(2029, 12, 31)
    # 2.6 at the end of 2026, 2.9 at the end of 2027: halfway (2027-07-02, 183 of 365 days) by hand.
    assert expected_on(plans["32.73"], "index", dt.date(2027, 7, 2)) == pytest.approx(2.6 + 0.3 * 183 / 365)
    # Programme status comes from the published cohort lists: 25 + 50 + 25 + 2 + 5 + 14 + 10 = 131 places,
    # 3 regions named in two cohorts (64.02, 32.76, 33.02), so 128 regions, each at its first cohort.
    assert sum(p.programme.masterplan_adopted for p in plans.values()) == 128
    assert plans["15.71"].programme == ProgrammeStatus(cohort_year=2017, masterplan_adopted=True)  # Kota Jambi
    assert plans["64.02"].programme.cohort_year == 2017  # Kutai Kartanegara: 2017 and 2021
    assert plans["32.76"].programme.cohort_year == 2018  # Kota Depok: 2018 and 2019
    assert plans["32.73"].programme.cohort_year == 2017  # Kota Bandung
    assert plans["11.01"].programme == ProgrammeStatus()  # Kab. Aceh Selatan: on no published list


def _resolve(
    path: Path, current: dict[str, Masterplan] | None = None, reference: dict[str, ProgrammeStatus] | None = None
) -> dict[str, Masterplan]:
    return resolve_plans([load_masterplan_file(path, FW, REG)], REG, current, reference)


def _national() -> dict[str, Masterplan]:
    return _resolve(DEFAULT_MASTERPLAN_FILE)


def _regions_file(path: Path, regions: str) -> Path:
    """A YAML plan file for the shipped framework with ``regions`` (YAML lines below ``regions:``)."""
    path.write_text(f"format: pantau-masterplan/1\nframework_id: pp59_2022\nregions:\n{regions}")
    return path


def test_a_region_plan_keeps_the_programme_status_it_does_not_state(tmp_path: Path) -> None:
    # The case: a one-region CSV for Kota Jambi (2017 cohort) un-adopted it (29 -> 28).
    f = tmp_path / "jambi.csv"
    f.write_text("region_code,plan_id,due,target,score\n15.71,jambi-2029,2027-12-31,index,3.4\n")
    before = _national()
    after = _resolve(f, before)
    assert after["15.71"].basis == "region" and after["15.71"].plan_id == "jambi-2029"
    assert after["15.71"].programme == ProgrammeStatus(cohort_year=2017, masterplan_adopted=True)
    assert sum(p.programme.masterplan_adopted for p in after.values()) == 128
    # Loaded on an empty topic, a region plan takes its status from the reference data.
    alone = _resolve(f)
    assert alone["15.71"].programme == ProgrammeStatus(cohort_year=2017, masterplan_adopted=True)


def test_a_file_changes_only_the_programme_fields_it_states(tmp_path: Path) -> None:
    f = _regions_file(
        tmp_path / "programme.yaml",
        """\
  "15.71": {programme: {adopted_on: 2018-03-01, masterplan_adopted: true}}
  "11.01": {programme: {cohort_year: 2025}}
  "14.05": {programme: {masterplan_adopted: false}}
""",
    )
    plans = _resolve(f, _national())
    # Kota Jambi keeps its 2017 cohort; Aceh Selatan gets a cohort, still not adopted; Pelalawan keeps 2017.
    assert plans["15.71"].programme == ProgrammeStatus(cohort_year=2017, masterplan_adopted=True,
                                                       adopted_on=dt.date(2018, 3, 1))  # fmt: skip
    assert plans["11.01"].programme == ProgrammeStatus(cohort_year=2025, masterplan_adopted=False)
    assert plans["14.05"].programme == ProgrammeStatus(cohort_year=2017, masterplan_adopted=False)
    # Loading the national default again keeps what the files stated.
    again = _resolve(DEFAULT_MASTERPLAN_FILE, plans)
    assert again["11.01"].programme.cohort_year == 2025 and not again["14.05"].programme.masterplan_adopted


def test_records_without_a_status_take_the_reference_when_the_national_plan_is_loaded() -> None:
    # A topic written before the cohort lists were shipped: no region has a status.
    bare = {code: p.model_copy(update={"programme": ProgrammeStatus()}) for code, p in _national().items()}
    plans = _resolve(DEFAULT_MASTERPLAN_FILE, bare)
    assert sum(p.programme.masterplan_adopted for p in plans.values()) == 128
    # With reference data of its own (here: none), nothing is invented.
    plans = _resolve(DEFAULT_MASTERPLAN_FILE, bare, reference={})
    assert not any(p.programme.masterplan_adopted for p in plans.values())


def test_a_region_plan_overrides_the_default_and_keeps_it_for_others(tmp_path: Path) -> None:
    f = _regions_file(
        tmp_path / "bandung.yaml",
        """\
  "32.73":
    plan_id: bandung-2029
    milestones: [{due: 2027-12-31, targets: {index: 3.8, governance: 4.0}}]
""",
    )
    plans = _resolve(f, _national())
    assert plans["32.73"].basis == "region" and plans["32.73"].plan_id == "bandung-2029"
    assert plans["32.71"].basis == "national_default"
    # Loading the national default again does not replace a region's own plan.
    assert _resolve(DEFAULT_MASTERPLAN_FILE, plans)["32.73"].plan_id == "bandung-2029"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('regions: {"32.73": {plan_id: p, milestones: [{due: 2027-01-01, targets: {index: 7}}]}}',
         "region 32.73: milestones.0.targets.index"),
        ('regions: {"99.99": {plan_id: p, milestones: [{due: 2027-01-01, targets: {index: 3}}]}}',
         "region 99.99: region_code: not in region registry"),
        ('regions: {"32.73": {plan_id: p, milestones: [{due: 2027-01-01, targets: {mobility: 3}}]}}',
         "region 32.73: milestones.0.targets.mobility: 'mobility' is not a dimension"),
        ('regions: {"32.73": {plan_id: p}}', "region 32.73: (entry)"),
    ],
)  # fmt: skip
def test_errors_name_the_file_the_region_and_the_field(tmp_path: Path, body: str, expected: str) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text(f"format: pantau-masterplan/1\nframework_id: pp59_2022\n{body}\n")
    with pytest.raises(MasterplanFileError) as err:
        load_masterplan_file(f, FW, REG)
    assert f"{f}:3: {expected}" in str(err.value)


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


#: One plan in three dialects: plain CSV; Excel under an Indonesian locale (';' between fields, decimal
#: commas, a UTF-8 byte-order mark, CRLF line ends, a row of empty cells); tab-separated.
DIALECTS = {
    "comma": "region_code,plan_id,due,target,score,label\n32.73,bdg,2026-12-31,index,3.25,Akhir 2026\n"
             "32.73,bdg,2026-12-31,governance,3.5,\n32.73,bdg,2027-12-31,index,3.75,Akhir 2027\n",
    "excel-id": "\ufeffregion_code;plan_id;due;target;score;label\r\n32.73;bdg;2026-12-31;index;3,25;Akhir 2026\r\n"
                "32.73;bdg;2026-12-31;governance;3,5;\r\n;;;;;\r\n32.73;bdg;2027-12-31;index;3,75;Akhir 2027\r\n",
    "tab": "region_code\tplan_id\tdue\ttarget\tscore\tlabel\n32.73\tbdg\t2026-12-31\tindex\t3.25\tAkhir 2026\n"
           "32.73\tbdg\t2026-12-31\tgovernance\t3.5\t\n32.73\tbdg\t2027-12-31\tindex\t3.75\tAkhir 2027\n",
}  # fmt: skip


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_the_csv_dialect_is_detected(tmp_path: Path, dialect: str) -> None:
    f = tmp_path / "plans.csv"
    f.write_bytes(DIALECTS[dialect].encode())
    bdg = load_masterplan_file(f, FW, REG).regions["32.73"].milestones or []
    assert [(m.due, m.label, m.targets) for m in bdg] == [
        (dt.date(2026, 12, 31), "Akhir 2026", {"index": 3.25, "governance": 3.5}),
        (dt.date(2027, 12, 31), "Akhir 2027", {"index": 3.75}),
    ]


def test_contract_errors_carry_the_line_of_the_value(tmp_path: Path) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text("format: pantau-masterplan/1\n"
                 "framework_id: pp59_2022\n"
                 "regions:\n"
                 '  "32.73":\n'
                 "    plan_id: bdg\n"
                 "    milestones:\n"
                 "      - due: 2026-12-31\n"
                 "        targets: {index: 3.0}\n"
                 "      - due: 2027-12-31\n"
                 "        targets: {index: 5.5}\n")  # fmt: skip
    with pytest.raises(MasterplanFileError) as err:
        load_masterplan_file(f, FW, REG)
    assert str(err.value) == (f"{f}:10: region 32.73: milestones.1.targets.index: "
                              "Input should be less than or equal to 5 (got 5.5)")  # fmt: skip
    c = tmp_path / "plan.csv"
    c.write_text("region_code,plan_id,due,target,score\n32.73,bdg,2026-12-31,index,3\n32.73,bdg,2027-12-31,index,5.5\n")
    with pytest.raises(MasterplanFileError) as err:
        load_masterplan_file(c, FW, REG)
    assert str(err.value) == f"{c}:3: region 32.73: score: Input should be less than or equal to 5 (got 5.5)"
