"""House rules of deploy/prometheus, read from the files (promtool itself runs in
tests/integration/test_prometheus_rules.py):

- recording rules are named level:metric:operations;
- every alert has severity, summary, description and a runbook_url whose section exists;
- every alert has a promtool test that shows it not firing, then firing;
- every recording rule has a promtool test of its value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RECORD_NAME = re.compile(r"^[a-z]+(_[a-z]+)*:pantau_[a-z0-9_]+:[a-z0-9_]+$")
SEVERITIES = {"critical", "warning", "info"}


def rules() -> list[dict[str, Any]]:
    return [r for p in sorted((PROMETHEUS / "rules").glob("*.yml"))
            for g in yaml.safe_load(p.read_text())["groups"] for r in g["rules"]]  # fmt: skip


def alerts() -> list[dict[str, Any]]:
    return [r for r in rules() if "alert" in r]


def records() -> set[str]:
    return {r["record"] for r in rules() if "record" in r}


def unit_tests() -> list[dict[str, Any]]:
    return [t for p in sorted((PROMETHEUS / "tests").glob("*.yml")) for t in yaml.safe_load(p.read_text())["tests"]]


def test_recording_rules_are_named_level_metric_operations() -> None:
    bad = sorted(name for name in records() if not RECORD_NAME.match(name))
    assert not bad, f"not level:metric:operations: {bad}"
    assert all(r["record"].split(":")[2] != "" for r in rules() if "record" in r)


def test_every_alert_carries_severity_summary_description_runbook() -> None:
    assert alerts()
    for a in alerts():
        assert a["labels"]["severity"] in SEVERITIES, a["alert"]
        ann = a["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(ann), a["alert"]
        # An absolute link: the runbook the alerts service serves, at the alert's section.
        assert ann["runbook_url"] == "{{ $externalLabels.pantau_runbooks }}#" + a["alert"].lower(), a["alert"]
        assert a.get("for"), f"{a['alert']} fires on one evaluation: give it a 'for'"


def test_every_alert_has_a_runbook_section_with_its_four_parts() -> None:
    text = (PROMETHEUS / "runbook.md").read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S))
    for a in alerts():
        body = sections.get(a["alert"])
        assert body, f"runbook.md has no '## {a['alert']}' section"
        for part in ("**Meaning.**", "**Impact.**", "**Diagnosis.**", "**Fix.**"):
            assert part in body, f"runbook section {a['alert']} lacks {part}"
    assert set(sections) == {a["alert"] for a in alerts()}, "runbook sections without an alert"


def test_every_alert_is_tested_not_firing_then_firing() -> None:
    cases: dict[str, list[tuple[int, bool]]] = {}
    for t in unit_tests():
        for case in t.get("alert_rule_test", []):
            minutes = _minutes(case["eval_time"])
            cases.setdefault(case["alertname"], []).append((minutes, bool(case.get("exp_alerts"))))
    for a in alerts():
        seen = sorted(cases.get(a["alert"], []))
        assert seen, f"no promtool test for {a['alert']}"
        quiet = [m for m, firing in seen if not firing]
        loud = [m for m, firing in seen if firing]
        assert quiet and loud and min(quiet) < min(loud), f"{a['alert']}: test it not firing first, then firing"


def test_every_recording_rule_has_a_value_test() -> None:
    tested = {case["expr"].strip() for t in unit_tests() for case in t.get("promql_expr_test", [])}
    missing = sorted(records() - tested)
    assert not missing, f"recording rules without a promql_expr_test: {missing}"


def test_rule_names_are_unique_per_label_set() -> None:
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for r in rules():
        key = (r.get("record") or r["alert"], tuple(sorted((r.get("labels") or {}).items())))
        if "alert" in r:
            key = (r["alert"], ())
        assert key not in seen, f"duplicate rule {key}"
        seen.add(key)


def _minutes(duration: str) -> int:
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?", duration)
    assert m and duration, f"unsupported eval_time {duration!r}"
    return int(m[1] or 0) * 60 + int(m[2] or 0)
