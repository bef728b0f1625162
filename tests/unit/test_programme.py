"""The programme's figures: published totals (assisted) apart from the regions known by name, by cohort year,
against the 263 target; the CLI and the metric. Expected figures are the published ones, worked out here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from pantau.cli import app
from schemas.masterplan import DEFAULT_MASTERPLAN_FILE, NATIONAL_MASTERPLAN_TARGET
from schemas.programme import default_programme, read_programme
from schemas.regions import default_registry
from services.alerts.metrics import AlertsMetrics

runner = CliRunner()

#: Published per cohort year (Kominfo, as reported; gerakan_smart_city_cohort_totals.csv): cohort size and
#: distinct kab/kota assisted since 2017. 25 + 50 + 25 = 100 by 2019; 2021's 48 include 7 repeats, so
#: 100 + 48 - 7 = 141; then 141 + 50 = 191, 191 + 50 = 241, 241 + 10 = 251. No 2020 cohort.
PUBLISHED = {2017: (25, 25), 2018: (50, 75), 2019: (25, 100), 2021: (48, 141), 2022: (50, 191),
             2023: (50, 241), 2024: (10, 251)}  # fmt: skip
#: Regions a public list names per cohort (gerakan_smart_city_cohorts.csv): complete for 2017-2019 and 2024.
NAMED = {2017: 25, 2018: 50, 2019: 25, 2021: 2, 2022: 5, 2023: 14, 2024: 10}
COMPLETE = {2017, 2018, 2019, 2024}


def test_the_published_figures_by_cohort_year() -> None:
    prog = default_programme()
    assert {c.year: (c.cohort_size, c.cumulative_assisted) for c in prog.cohorts} == PUBLISHED
    assert {c.year: c.named for c in prog.cohorts} == NAMED
    assert {c.year for c in prog.cohorts if c.named_complete} == COMPLETE
    assert (prog.assisted.year, prog.assisted.cumulative_assisted) == (2024, 251)
    assert (prog.target.year, prog.target.cumulative_assisted) == (2029, 263) == (2029, NATIONAL_MASTERPLAN_TARGET)
    assert [(t.year, t.cumulative_assisted) for t in prog.targets] == [(2024, 150), (2029, 263)]


def test_the_named_regions_are_a_subset_counted_once() -> None:
    prog = default_programme()
    # 25 + 50 + 25 + 2 + 5 + 14 + 10 = 131 places; 64.02 (2017, 2021), 32.76 and 33.02 (2018, 2019) twice.
    assert len(prog.participants) == 131
    assert {code: years for code, years in prog.named_regions.items() if len(years) > 1} == {
        "32.76": [2018, 2019], "33.02": [2018, 2019], "64.02": [2017, 2021],
    }  # fmt: skip
    assert len(prog.named_regions) == 131 - 3 == 128
    assert set(prog.named_regions) <= set(default_registry().regions)


def test_conflicting_figures_are_kept_and_the_one_used_is_the_one_with_both_counts() -> None:
    conflicts = [(c.year, c.field, c.used, c.other) for c in default_programme().conflicts]
    assert conflicts == [
        (2021, "cohort_size", 48, 70),  # 70 took part around tourism areas; 48 had the full guidance
        (2022, "cumulative_assisted", 191, 198),  # the LAIP director's 198 against Kominfo's 191
        (2023, "cohort_size", 50, 47),  # the 2022 selection letter named 47; 50 completed
    ]


def test_the_rule_on_files_of_its_own(tmp_path: Path) -> None:
    cohorts, totals = tmp_path / "cohorts.csv", tmp_path / "totals.csv"
    cohorts.write_text("cohort_year,region_code,region_name,completeness,source\n"
                       "2017,32.73,Kota Bandung,partial (1/3),a\n")  # fmt: skip
    totals.write_text("year,cohort_size,cumulative_assisted,source\n"
                      "2017,4,,first report\n2017,3,3,official\n2018,,9,TARGET, not a count\n")  # fmt: skip
    prog = read_programme(cohorts, totals)
    [c] = prog.cohorts
    assert (c.year, c.cohort_size, c.cumulative_assisted, c.named, c.named_complete) == (2017, 3, 3, 1, False)
    assert [(k.field, k.used, k.other, k.source_other) for k in prog.conflicts] == [
        ("cohort_size", 3, 4, "first report")
    ]
    assert (prog.target.year, prog.target.cumulative_assisted) == (2018, 9)
    totals.write_text("year,cohort_size,cumulative_assisted,source\n2017,x,3,a\n")
    with pytest.raises(ValueError, match=r"totals.csv:2: "):
        read_programme(cohorts, totals)


def test_programme_status_json(tmp_path: Path) -> None:
    # The case: a region's own plan loaded after the national one keeps the region adopted.
    jambi = tmp_path / "jambi.csv"
    jambi.write_text("region_code,plan_id,due,target,score\n15.71,jambi-2029,2027-12-31,index,3.4\n")
    result = runner.invoke(app, ["programme", "status", "--json", "--file", str(DEFAULT_MASTERPLAN_FILE),
                                 "--file", str(jambi)])  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["target"]["regions"], body["target"]["by"]) == (263, 2029)
    assisted = body["assisted"]
    assert (assisted["regions"], assisted["through"], assisted["to_go"]) == (251, 2024, 263 - 251)
    assert assisted["share_of_target"] == pytest.approx(251 / 263)  # 95 %
    assert (body["named"]["regions"], body["named"]["cohort_places"]) == (128, 131)
    assert {c["year"]: c["named"] for c in body["by_cohort"]} == NAMED
    assert [(k["year"], k["used"], k["other"]) for k in body["conflicts"]["figures"]] == [
        (2021, 48, 70), (2022, 191, 198), (2023, 50, 47)]  # fmt: skip
    assert body["plans"]["regions_with_plan"] == 514
    assert body["plans"]["by_status"] == {"masterplan_adopted": 128, "not_named": 514 - 128}
    assert body["plans"]["adopted_by_province"]["15"] == 1  # Kota Jambi, still adopted after its own plan


def test_programme_status_text_leads_with_the_published_total() -> None:
    result = runner.invoke(app, ["programme", "status", "--file", str(DEFAULT_MASTERPLAN_FILE)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Gerakan Menuju Smart City: 251 kab/kota assisted 2017-2024 (published total) "
                               "against the target of 263 masterplans by 2029: 95%, 12 to go (https://teknologi."
                               "bisnis.com/read/20240225/")  # fmt: skip
    assert lines[1:10] == [
        "  cohort  assisted  cumulative  known by name",
        "    2017        25          25  25 (complete list)",
        "    2018        50          75  50 (complete list)",
        "    2019        25         100  25 (complete list)",
        "    2020         -           -  (no cohort reported)",
        "    2021        48         141  2 of 48 (partial list)",
        "    2022        50         191  5 of 50 (partial list)",
        "    2023        50         241  14 of 50 (partial list)",
        "    2024        10         251  10 (complete list)",
    ]
    assert lines[10] == ("  known by name: 128 kab/kota (131 cohort places; named in two cohorts: 32.76, 33.02, "
                         "64.02): a subset of the 251 assisted, not the total")  # fmt: skip
    assert lines[12].startswith("    2021 cohort size: 48 used (")
    assert any(line.startswith("plans in the files: 514 regions; masterplan adopted: 128 ") for line in lines)


def test_the_programme_metrics() -> None:
    metrics = AlertsMetrics(CollectorRegistry())
    plans = [
        {"region_code": "15.71", "programme": {"cohort_year": 2017, "masterplan_adopted": True}},
        {"region_code": "11.01", "programme": {"cohort_year": None, "masterplan_adopted": False}},
        {"region_code": "32.73", "programme": {"cohort_year": 2025, "masterplan_adopted": False}},
        {"region_code": "33.02", "programme": {"masterplan_adopted": "not a bool"}},  # unreadable: skipped
    ]
    metrics.set_programme(plans)
    value = metrics.registry.get_sample_value
    assert value("pantau_programme_masterplans_target") == 263
    assert value("pantau_programme_masterplans_adopted") == 1
    for year, (size, cumulative) in PUBLISHED.items():
        assert value("pantau_programme_assisted_regions", {"cohort_year": str(year)}) == size
        assert value("pantau_programme_assisted_cumulative_regions", {"cohort_year": str(year)}) == cumulative
        labels = {"cohort_year": str(year), "complete": "true" if year in COMPLETE else "false"}
        assert value("pantau_programme_named_regions", labels) == NAMED[year]
    assert value("pantau_programme_assisted_regions", {"cohort_year": "2020"}) is None
    series = {tuple(sorted(s.labels.items())) for f in metrics.registry.collect() for s in f.samples
              if s.name == "pantau_region_programme"}  # fmt: skip
    assert series == {
        (("cohort_year", "2017"), ("province", "15"), ("region", "15.71"), ("status", "masterplan_adopted")),
        (("cohort_year", "none"), ("province", "11"), ("region", "11.01"), ("status", "not_named")),
        (("cohort_year", "2025"), ("province", "32"), ("region", "32.73"), ("status", "cohort_member")),
    }
    metrics.set_programme([])  # plans removed: their series go too
    assert value("pantau_programme_masterplans_adopted") == 0
    assert not [s for f in metrics.registry.collect() for s in f.samples if s.name == "pantau_region_programme"]
