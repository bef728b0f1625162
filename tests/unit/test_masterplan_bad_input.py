"""Every malformed plan file through ``pantau masterplan load``: a clean message naming file:line:field, exit 1.

Each case writes its file into tmp_path and states, written out by hand, the lines the error must print
(``{f}`` stands for the file's path). The files fail validation before anything reaches Kafka, so these
run without a broker, with and without ``--dry-run``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pantau.cli import app

runner = CliRunner()

HEADER = "region_code,plan_id,due,target,score\n"
YAML_HEAD = "format: pantau-masterplan/1\nframework_id: pp59_2022\n"
REGION_PLAN = 'regions:\n  "32.73":\n    plan_id: bdg\n    milestones:\n'

CASES: list[tuple[str, str, bytes, list[str]]] = [
    # ------------------------------------------------------------------------------------------ CSV
    ("csv-row-missing-a-column", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,index\n").encode(),
     ["{f}:2: region 32.73: score: missing: the row has 4 fields, the header 5 "
      "(region_code,plan_id,due,target,score)"]),
    ("csv-empty-cell", "plans.csv", (HEADER + "32.73,,2026-12-31,index,3\n").encode(),
     ["{f}:2: region 32.73: plan_id: empty"]),
    ("csv-too-many-fields", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,index,3,extra\n").encode(),
     ["{f}:2: (row): 6 fields, the header has 5 (region_code,plan_id,due,target,score)"]),
    ("csv-duplicate-row", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,index,3\n" * 2).encode(),
     ["{f}:3: region 32.73: target: index due 2026-12-31 is already set on line 2 (this row repeats it): "
      "one row per region, due date and target"]),
    ("csv-conflicting-row", "plans.csv",
     (HEADER + "32.73,bdg,2026-12-31,index,3\n32.73,bdg,2026-12-31,index,3.2\n").encode(),
     ["{f}:3: region 32.73: target: index due 2026-12-31 is already set on line 2 (this row sets 3 there, "
      "3.2 here): one row per region, due date and target"]),
    ("csv-two-plan-ids", "plans.csv",
     (HEADER + "32.73,bdg,2026-12-31,index,3\n32.73,bandung,2027-12-31,index,3.4\n").encode(),
     ["{f}:3: region 32.73: plan_id: 'bandung', but line 2 gives this region the plan 'bdg': one plan per region"]),
    ("csv-two-labels-one-due-date", "plans.csv",
     (HEADER.replace("score", "score,label") + "32.73,bdg,2026-12-31,index,3,Akhir 2026\n"
      "32.73,bdg,2026-12-31,governance,3,End of 2026\n").encode(),
     ["{f}:3: region 32.73: label: 'End of 2026', but line 2 labels the milestone due 2026-12-31 'Akhir 2026'"]),
    ("csv-bad-date", "plans.csv", (HEADER + "32.73,bdg,31/12/2026,index,3\n").encode(),
     ["{f}:2: region 32.73: due: '31/12/2026' is not a date (YYYY-MM-DD)"]),
    ("csv-bad-number", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,index,tiga\n").encode(),
     ["{f}:2: region 32.73: score: 'tiga' is not a number"]),
    ("csv-score-out-of-range", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,index,7\n").encode(),
     ["{f}:2: region 32.73: score: Input should be less than or equal to 5 (got 7.0)"]),
    ("csv-score-nan", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,index,nan\n").encode(),
     ["{f}:2: region 32.73: score: Input should be a finite number (got nan)"]),
    ("csv-unknown-region", "plans.csv", (HEADER + "99.99,x,2026-12-31,index,3\n").encode(),
     ["{f}:2: region 99.99: region_code: not in region registry kepmendagri-2025"]),
    ("csv-region-code-not-a-code", "plans.csv", (HEADER + "3273,x,2026-12-31,index,3\n").encode(),
     ["{f}:2: region 3273: region_code: String should match pattern '^\\d{2}\\.\\d{2}$' (got '3273')"]),
    ("csv-region-code-read-as-a-number", "plans.csv", (HEADER + "32.1,x,2026-12-31,index,3\n").encode(),
     ["{f}:2: region_code: '32.1' is not a region code PP.KK: a spreadsheet may have read the code as a number "
      "(format the column as text)"]),
    ("csv-unknown-target", "plans.csv", (HEADER + "32.73,bdg,2026-12-31,mobility,3\n").encode(),
     ["{f}:2: region 32.73: target: 'mobility' is not a dimension of pp59_2022@2026.1 nor 'index' (allowed: "
      "branding, economy, environment, governance, index, living, society)"]),
    ("csv-header-missing-a-column", "plans.csv", b"region_code,plan_id,due,target\n32.73,bdg,2026-12-31,index\n",
     ["{f}:1: header: missing column(s) score (read with the delimiter ','; expected "
      "region_code,plan_id,due,target,score[,label])"]),
    ("csv-header-unknown-column", "plans.csv", (HEADER.replace("\n", ",note\n") + "32.73,bdg,2026-12-31,index,3,x\n"
                                                ).encode(),
     ["{f}:1: header: unknown column(s) 'note' (read with the delimiter ','; expected "
      "region_code,plan_id,due,target,score[,label])"]),
    ("csv-empty-file", "plans.csv", b"",
     ["{f}: the file is empty (expected the header region_code,plan_id,due,target,score[,label])"]),
    ("csv-header-only", "plans.csv", HEADER.encode(), ["{f}: the file has a header and no plan rows"]),
    ("csv-not-utf8", "plans.csv", HEADER.encode() + "32.73,bdg,2026-12-31,index,3\n".encode("cp1252")
     + "32.73,bdg,2027-12-31,index,3.4,Akhir tahun ú\n".encode("cp1252"),
     ["{f}:3: not UTF-8 (byte 0xfa): save the file as UTF-8 (in Excel: 'CSV UTF-8')"]),
    ("csv-several-problems-at-once", "plans.csv",
     (HEADER + "32.73,bdg,2026-12-31,index,3\n32.73,bdg,2027-12-31,index,x\n32.73,bdg,2028-12-31,index,9\n"
      ).encode(),
     ["{f}:3: region 32.73: score: 'x' is not a number",
      "{f}:4: region 32.73: score: Input should be less than or equal to 5 (got 9.0)"]),
    # ----------------------------------------------------------------------------------------- YAML
    ("yaml-two-milestones-one-due-date", "plan.yaml",
     (YAML_HEAD + REGION_PLAN + "      - {due: 2027-12-31, targets: {index: 3}}\n"
      "      - {due: 2027-12-31, targets: {index: 3.2}}\n").encode(),
     ["{f}:6: region 32.73: milestones: two milestones share a due date (2027-12-31: milestones 0 and 1)"]),
    ("yaml-bad-date", "plan.yaml", (YAML_HEAD + REGION_PLAN + "      - due: 2027-13-01\n"
                                    "        targets: {index: 3}\n").encode(),
     ["{f}:7: region 32.73: milestones.0.due: Input should be a valid date or datetime, month value is outside "
      "expected range of 1-12 (got '2027-13-01')"]),
    ("yaml-bad-number", "plan.yaml", (YAML_HEAD + REGION_PLAN + "      - due: 2027-12-31\n"
                                      "        targets: {index: tiga}\n").encode(),
     ["{f}:8: region 32.73: milestones.0.targets.index: Input should be a valid number, unable to parse string "
      "as a number (got 'tiga')"]),
    ("yaml-syntax-error", "plan.yaml", (YAML_HEAD + 'regions: {"32.73": {plan_id: bdg\n').encode(),
     ["{f}:4:1: not valid YAML: expected ',' or '}', but got '<stream end>'"]),
    ("yaml-duplicate-region", "plan.yaml", (YAML_HEAD + 'regions:\n  "32.73": {programme: {cohort_year: 2017}}\n'
                                            '  "32.73": {programme: {cohort_year: 2018}}\n').encode(),
     ["{f}:5:3: not valid YAML: duplicate key '32.73' (first on line 4)"]),
    ("yaml-wrong-format-tag", "plan.yaml", (YAML_HEAD.replace("/1", "/2")
                                            + 'regions: {"32.73": {programme: {cohort_year: 2017}}}\n').encode(),
     ["{f}:1: format: Input should be 'pantau-masterplan/1' (got 'pantau-masterplan/2')"]),
    ("yaml-no-format", "plan.yaml", b"framework_id: pp59_2022\n",
     ["{f}:1: format: Field required"]),
    ("yaml-other-framework", "plan.yaml", (YAML_HEAD.replace("pp59_2022", "komdigi_2026")
                                           + 'regions: {"32.73": {programme: {cohort_year: 2017}}}\n').encode(),
     ["{f}:2: framework_id: 'komdigi_2026' is not the loaded framework 'pp59_2022'"]),
    ("yaml-unknown-region", "plan.yaml", (YAML_HEAD + 'regions: {"99.99": {programme: {cohort_year: 2017}}}\n'
                                          ).encode(),
     ["{f}:3: region 99.99: region_code: not in region registry kepmendagri-2025"]),
    ("yaml-unquoted-region-code", "plan.yaml", (YAML_HEAD + "regions:\n  32.70: {programme: {cohort_year: 2017}}\n"
                                                ).encode(),
     ['{f}:4: region 32.7: region_code: a region code is quoted text ("32.70"); unquoted, YAML reads it as the '
      "number 32.7"]),
    ("yaml-unknown-field", "plan.yaml", (YAML_HEAD + 'regions:\n  "32.73":\n    plan: bdg\n').encode(),
     ["{f}:5: region 32.73: plan: Extra inputs are not permitted (got 'bdg')"]),
    ("yaml-plan-without-milestones", "plan.yaml", (YAML_HEAD + 'regions:\n  "32.73":\n    plan_id: bdg\n').encode(),
     ["{f}:4: region 32.73: (entry): a region plan needs both plan_id and milestones (or neither)"]),
    ("yaml-adoption-date-without-adoption", "plan.yaml",
     (YAML_HEAD + 'regions:\n  "32.73":\n    programme: {adopted_on: 2020-01-01}\n').encode(),
     ["{f}:5: region 32.73: programme: adopted_on is set but masterplan_adopted is false"]),
    ("yaml-no-plan-at-all", "plan.yaml", YAML_HEAD.encode(),
     ["{f}:1: (file): the file sets no national_default and no region"]),
    ("yaml-not-a-mapping", "plan.yaml", b"- 32.73\n- 32.71\n",
     ["{f}:1: (file): Input should be a valid dictionary or instance of MasterplanFile"]),
    ("yaml-two-documents", "plan.yaml", (YAML_HEAD + "---\n" + YAML_HEAD).encode(),
     ["{f}:3:1: not valid YAML: but found another document"]),
    ("yaml-python-tag", "plan.yaml", b"!!python/object/apply:os.system [echo]\n",
     ["{f}:1:1: not valid YAML: could not determine a constructor for the tag "
      "'tag:yaml.org,2002:python/object/apply:os.system'"]),
    ("yaml-empty-file", "plan.yaml", b"# nothing here\n",
     ["{f}: the file is empty (a plan file starts 'format: pantau-masterplan/1')"]),
    ("yaml-not-utf8", "plan.yaml", YAML_HEAD.encode() + b"# \xff\n",
     ["{f}:3: not UTF-8 (byte 0xff): save the file as UTF-8 (in Excel: 'CSV UTF-8')"]),
]  # fmt: skip


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "load"])
@pytest.mark.parametrize(("name", "filename", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_plan_file_is_a_clean_error(
    tmp_path: Path, name: str, filename: str, content: bytes, expected: list[str], dry_run: bool
) -> None:
    f = tmp_path / filename
    f.write_bytes(content)
    result = runner.invoke(app, ["masterplan", "load", str(f), *(["--dry-run"] if dry_run else [])])
    assert isinstance(result.exception, SystemExit), result.exception  # not an uncaught exception
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        "error: invalid masterplan file:",
        *(e.replace("{f}", str(f)) for e in expected),
    ]


@pytest.mark.parametrize("path", ["missing.yaml", "."], ids=["missing", "a-directory"])
def test_an_unreadable_path_is_a_clean_error(tmp_path: Path, path: str) -> None:
    f = tmp_path / path
    result = runner.invoke(app, ["masterplan", "load", str(f), "--dry-run"])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    reason = "No such file or directory" if path == "missing.yaml" else "Is a directory"
    assert result.stderr.splitlines() == ["error: invalid masterplan file:", f"{f}: cannot read: {reason}"]


def test_programme_status_from_a_malformed_file_is_a_clean_error(tmp_path: Path) -> None:
    f = tmp_path / "plans.csv"
    f.write_bytes((HEADER + "32.73,bdg,2026-12-31,index\n").encode())
    result = runner.invoke(app, ["programme", "status", "--file", str(f)])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert f"{f}:2: region 32.73: score: missing" in result.stderr
