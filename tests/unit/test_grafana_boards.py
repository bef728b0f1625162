"""The boards as code: committed JSON matches the code, every panel is well formed, every metric exists.

That every query returns data from the real services is checked by
tests/integration/test_grafana_queries.py; here only the files and the names are checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.alerts.metrics import AlertsMetrics
from services.alerts.notify.metrics import NotifyMetrics
from services.ingest.metrics import IngestMetrics
from services.ops import grafana_build as build
from services.ops.grafana_boards import BOARDS
from services.ops.grafana_panels import iter_panels, query_result_line, variable_regex
from services.scoring.metrics import ScoringMetrics

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "deploy" / "prometheus" / "rules"
PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
#: Series every Prometheus has, whatever it scrapes.
BUILTIN_SERIES = {"up", "ALERTS"}


def _boards() -> dict[str, dict[str, Any]]:
    return {name: json.loads((build.DASHBOARDS_DIR / name).read_text()) for name in BOARDS}


def exported_series() -> set[str]:
    """Every series name the three services can export (from their metric classes)."""
    registry = CollectorRegistry()
    for metrics in (ScoringMetrics, IngestMetrics, AlertsMetrics, NotifyMetrics):
        metrics(registry)
    names: set[str] = set()
    for family in registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
        names.update(family.name + s for s in suffixes)
    return names


def recorded_series() -> set[str]:
    return {r["record"] for p in RULES_DIR.glob("*.yml") for g in yaml.safe_load(p.read_text())["groups"]
            for r in g["rules"] if "record" in r}  # fmt: skip


_NAME_REGEX = re.compile(r'__name__=~"([^"]+)"')
_QUOTED = re.compile(r'"[^"]*"')
_IDENT = re.compile(r"(?<![\w:$])[a-zA-Z_:][\w:]*")


def series_in(expr: str) -> set[str]:
    """The series names an expression reads: pantau_* and recorded (a:b:c) names, and name regexes expanded."""
    names: set[str] = set()
    for pattern in _NAME_REGEX.findall(expr):
        m = re.fullmatch(r"(\w*)\(([\w|]+)\)(\w*)", pattern)
        assert m, f"only prefix(a|b)suffix name regexes are supported: {pattern}"
        names.update(m[1] + alt + m[3] for alt in m[2].split("|"))
    for token in _IDENT.findall(_QUOTED.sub('""', expr)):
        if token.startswith("pantau_") or ":" in token or token in BUILTIN_SERIES:
            names.add(token)
    return names


def test_committed_json_matches_the_code() -> None:
    stale = build.stale_files()
    assert not stale, f"boards drifted from services/ops/grafana_boards.py: {stale}; run `pantau grafana build`"


def test_the_build_check_reports_drift(tmp_path: Path) -> None:
    assert build.main(["--check", "--out", str(tmp_path)]) == 1
    assert build.main(["--out", str(tmp_path)]) == 0
    assert build.main(["--check", "--out", str(tmp_path)]) == 0
    board = tmp_path / "pipeline-health.json"
    board.write_text(board.read_text().replace("Pipeline health", "Pipeline wealth"))
    assert build.main(["--check", "--out", str(tmp_path)]) == 1


def test_boards_are_the_four_expected() -> None:
    titles = {b["uid"]: b["title"] for b in _boards().values()}
    assert titles == {
        "pantau-national": "Pantau / National overview",
        "pantau-region": "Pantau / Region detail",
        "pantau-dimension": "Pantau / Dimension explorer",
        "pantau-pipeline": "Pantau / Pipeline health",
    }


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_are_well_formed(name: str) -> None:
    board = _boards()[name]
    panels = iter_panels(board)
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    for p in panels:
        where = f"{name}: panel {p['id']} {p.get('title')!r}"
        assert p.get("title"), where
        x, w = p["gridPos"]["x"], p["gridPos"]["w"]
        assert x >= 0 and x + w <= 24, f"{where} leaves the 24-column grid"
        if p["type"] in ("row", "text"):
            continue
        assert p.get("description"), f"{where} has no description"
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        refs = [t["refId"] for t in p["targets"]]
        assert p["targets"] and len(set(refs)) == len(refs), f"{where}: targets and unique refIds"
        for t in p["targets"]:
            assert t["expr"].strip() and t["datasource"] == p["datasource"], where


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_variables_are_label_values_of_real_series(name: str) -> None:
    board = _boards()[name]
    known = exported_series() | recorded_series()
    variables = board["templating"]["list"]
    assert variables[0] == {**variables[0], "name": "datasource", "type": "datasource", "query": "prometheus"}
    for var in variables[1:]:
        assert var["type"] == "query", var["name"]
        m = re.fullmatch(r"label_values\((.+), (\w+)\)|query_result\((.+)\)", var["query"])
        assert m, f"{name}: ${var['name']} is not label_values(selector, label) or query_result(expr)"
        if m[3] is not None:  # query_result needs a regex that picks the value (and the text)
            assert {"text", "value"} <= set(variable_regex(var["regex"]).groupindex), var["regex"]
        selector = m[1] or m[3]
        assert series_in(selector) <= known, (
            f"{name}: ${var['name']} reads unknown series {series_in(selector) - known}"
        )


def test_the_region_picker_shows_names_and_uses_codes() -> None:
    region = next(v for v in _boards()["region-detail.json"]["templating"]["list"] if v["name"] == "region")
    # A series as Prometheus returns it (labels sorted by name) and Grafana's query_result shows it.
    sample = {"metric": {"__name__": "pantau_region_info", "display": "Kota Bandung (32.73)", "instance": "a:6066",
                         "job": "pantau-scoring", "name": "Kota Bandung", "province": "32", "region": "32.73"},
              "value": [1764300000.0, "1"]}  # fmt: skip
    line = query_result_line(sample)
    assert line == ('pantau_region_info{display="Kota Bandung (32.73)", instance="a:6066", job="pantau-scoring", '
                    'name="Kota Bandung", province="32", region="32.73"} 1 1764300000000')  # fmt: skip
    m = variable_regex(region["regex"]).search(line)
    assert m is not None and (m["text"], m["value"]) == ("Kota Bandung (32.73)", "32.73")


def test_scoring_exports_region_names_for_the_picker() -> None:
    from schemas.framework import load_framework
    from schemas.regions import default_registry
    from services.scoring.scorer import Scorer
    from tests.builders import an_indicator_event

    metrics = ScoringMetrics(CollectorRegistry())
    scorer = Scorer(load_framework(), default_registry(), metrics, lateness_us=0, publish_interval=0.0)
    ev = an_indicator_event(region_code="32.73")
    scorer.apply_record(b"32.73", ev.model_dump_json().encode(), 0, 1, 0.0)
    scorer.score_if_changed("32.73")
    info = {tuple(sorted(s.labels.items())): s.value for f in metrics.registry.collect() for s in f.samples
            if s.name == "pantau_region_info"}  # fmt: skip
    assert info == {(("display", "Kota Bandung (32.73)"), ("name", "Kota Bandung"), ("province", "32"),
                     ("region", "32.73")): 1.0}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_query_reads_series_that_exist(name: str) -> None:
    known = exported_series() | recorded_series() | BUILTIN_SERIES
    for p in iter_panels(_boards()[name]):
        for t in p.get("targets", []):
            used = series_in(t["expr"])
            assert used, f"{name} / {p['title']}: no series in {t['expr']!r}"
            assert used <= known, f"{name} / {p['title']}: unknown series {sorted(used - known)}"


def test_rules_read_series_that_exist() -> None:
    known = exported_series() | recorded_series() | BUILTIN_SERIES
    for path in RULES_DIR.glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                unknown = series_in(rule["expr"]) - known
                assert not unknown, f"{path.name}: {rule.get('record') or rule.get('alert')} reads {sorted(unknown)}"


def test_the_series_parser() -> None:
    expr = ('sum by (job) (rate({__name__=~"pantau_(ingest|scoring)_x_total"}[5m])) / '
            'job:pantau_y:rate5m{dimension="a:b"} and up{job=~"pantau-.*"} offset 1h')  # fmt: skip
    assert series_in(expr) == {"pantau_ingest_x_total", "pantau_scoring_x_total", "job:pantau_y:rate5m", "up"}


def test_provisioning_points_at_the_boards_and_prometheus() -> None:
    ds = yaml.safe_load((PROVISIONING / "datasources" / "pantau.yml").read_text())
    (source,) = ds["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "pantau.yml").read_text())["providers"]
    assert [p["options"]["path"] for p in providers] == ["/var/lib/grafana/dashboards/pantau"]
