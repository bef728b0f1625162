"""The boards as code: committed JSON matches the code, every panel is well formed, every metric and table
exists, and the SQL of the long-range panels expands as Grafana expands it.

That every Prometheus query returns data from the real services is checked by
tests/integration/test_grafana_queries.py, and that every SQL query returns the figures written into a
real PostgreSQL by tests/integration/test_grafana_sql.py; here only the files and the names are checked.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.alerts.metrics import AlertsMetrics
from services.alerts.notify.metrics import NotifyMetrics
from services.history.adapters.postgres import metadata as history_tables
from services.history.api import ApiMetrics
from services.history.metrics import HistoryMetrics
from services.ingest.metrics import IngestMetrics
from services.ops import grafana_build as build
from services.ops.grafana_boards import BOARDS
from services.ops.grafana_panels import (
    HISTORY,
    LONG_RANGE,
    OPERATIONAL,
    OPERATIONAL_WINDOW,
    POSTGRES_PLUGIN,
    expand_sql,
    go_rfc3339nano,
    is_sql,
    iter_panels,
    query_result_line,
    sql_variable_value,
    variable_regex,
)
from services.scoring.metrics import ScoringMetrics

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "deploy" / "prometheus" / "rules"
PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
#: Series every Prometheus has, whatever it scrapes.
BUILTIN_SERIES = {"up", "ALERTS"}
PROMETHEUS_REF = {"type": "prometheus", "uid": "${datasource}"}
HISTORY_REF = {"type": POSTGRES_PLUGIN, "uid": "${history}"}
#: The boards with long-range panels on the history store.
LONG_RANGE_BOARDS = {"national-overview.json", "region-detail.json"}


def _boards() -> dict[str, dict[str, Any]]:
    return {name: json.loads((build.DASHBOARDS_DIR / name).read_text()) for name in BOARDS}


def exported_series() -> set[str]:
    """Every series name the services can export (from their metric classes)."""
    registry = CollectorRegistry()
    for metrics in (ScoringMetrics, IngestMetrics, AlertsMetrics, NotifyMetrics, HistoryMetrics, ApiMetrics):
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
        assert p["datasource"] in (PROMETHEUS_REF, HISTORY_REF), where
        refs = [t["refId"] for t in p["targets"]]
        assert p["targets"] and len(set(refs)) == len(refs), f"{where}: targets and unique refIds"
        for t in p["targets"]:
            assert t["datasource"] == p["datasource"], where
            if is_sql(t):
                assert t["rawSql"].strip() and t["rawQuery"] is True and t["editorMode"] == "code", where
                assert t["format"] in ("time_series", "table"), where
            else:
                assert t["expr"].strip(), where


def test_every_target_is_either_prometheus_or_the_history_store() -> None:
    """So the Prometheus check and the SQL check together cover every query of every board."""
    kinds = {(p["datasource"]["type"], t["datasource"]["type"]) for b in _boards().values() for p in iter_panels(b)
             for t in p.get("targets", [])}  # fmt: skip
    assert kinds == {("prometheus", "prometheus"), (POSTGRES_PLUGIN, POSTGRES_PLUGIN)}
    assert HISTORY.to_json() == HISTORY_REF


def _sql_panels(name: str) -> list[dict[str, Any]]:
    return [p for p in iter_panels(_boards()[name]) if any(is_sql(t) for t in p.get("targets", []))]


def test_the_long_range_boards_span_years_and_their_prometheus_panels_the_last_hours() -> None:
    for name, board in _boards().items():
        panels = [p for p in iter_panels(board) if p.get("targets")]
        if name in LONG_RANGE_BOARDS:
            assert (board["time"]["from"], board["time"]["to"]) == LONG_RANGE == ("now-3y/y", "now+3y/y"), name
            assert _sql_panels(name), f"{name} has no long-range panel"
            for p in panels:
                expected = None if p["datasource"] == HISTORY_REF else OPERATIONAL_WINDOW
                assert p.get("timeFrom") == expected, f"{name}: {p['title']}"
        else:
            assert (board["time"]["from"], board["time"]["to"]) == OPERATIONAL, name
            assert not _sql_panels(name) and not any("timeFrom" in p for p in panels), name


@pytest.mark.parametrize("name", sorted(LONG_RANGE_BOARDS))
def test_long_range_descriptions_say_what_the_figures_are(name: str) -> None:
    for p in _sql_panels(name):
        text = p["description"]
        for words in ("0-5" if "Regions per" not in p["title"] else "number of regions", "closing snapshot",
                      "simulated", "(demo seed)", "local day", "pp59_2022@"):  # fmt: skip
            assert words in text, f"{name}: {p['title']!r} does not say {words!r}"


_TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b(?!\s*\()")


@pytest.mark.parametrize("name", sorted(LONG_RANGE_BOARDS))
def test_sql_reads_tables_of_the_history_store_and_variables_of_the_board(name: str) -> None:
    board = _boards()[name]
    variables = {v["name"] for v in board["templating"]["list"]}
    ctes = {"closing", "latest"}
    for p in _sql_panels(name):
        for t in p["targets"]:
            sql = t["rawSql"]
            read = set(_TABLE.findall(sql)) - ctes
            assert read and read <= set(history_tables.tables), f"{p['title']}: reads {sorted(read)}"
            used = {a or b for a, b in re.findall(r"\$\{(\w+)\}|\$(\w+)(?!\w*\()", sql)}
            assert used <= variables, f"{p['title']}: variables {sorted(used - variables)} are not on the board"
            # Every macro is one Grafana knows and expand_sql writes: it raises on any other.
            year = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
            expanded = expand_sql(sql, time_from=year[0], time_to=year[1], variables=dict.fromkeys(used, "x"))
            assert "$" not in expanded, p["title"]


def test_time_macros_are_written_as_grafana_writes_them() -> None:
    wib = timezone(timedelta(hours=7))
    assert go_rfc3339nano(datetime(2025, 1, 31, 23, 30, tzinfo=wib)) == "2025-01-31T16:30:00Z"
    assert go_rfc3339nano(datetime(2025, 1, 31, 16, 30, 0, 120000, tzinfo=UTC)) == "2025-01-31T16:30:00.12Z"
    sql = ("SELECT 1 FROM t WHERE $__timeFilter(s.day) AND a >= $__timeFrom() AND a < $__timeTo() "
           "AND r = '$region' AND p IN ($province) AND q = '${region}'")  # fmt: skip
    out = expand_sql(sql, time_from=datetime(2024, 12, 31, 17, tzinfo=UTC), time_to=datetime(2025, 3, 1, tzinfo=wib),
                     variables={"region": "32.73", "province": ["32", "73"]}, multi=["province"])  # fmt: skip
    assert out == ("SELECT 1 FROM t WHERE s.day BETWEEN '2024-12-31T17:00:00Z' AND '2025-02-28T17:00:00Z' "
                   "AND a >= '2024-12-31T17:00:00Z' AND a < '2025-02-28T17:00:00Z' "
                   "AND r = '32.73' AND p IN ('32','73') AND q = '32.73'")  # fmt: skip


def test_variable_values_are_quoted_as_grafana_quotes_them_for_sql() -> None:
    assert sql_variable_value("Ke'erom") == "Ke''erom"  # the query writes the quotes around it
    assert sql_variable_value(["a", "b'c"]) == "'a','b''c'"
    assert sql_variable_value("a", multi=True) == "'a'"


def test_the_expansion_refuses_what_it_does_not_write() -> None:
    day = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="__timeGroup"):
        expand_sql("SELECT $__timeGroup(at, 1d)", time_from=day, time_to=day, variables={})
    with pytest.raises(ValueError, match=r"\$region has no value"):
        expand_sql("SELECT '$region'", time_from=day, time_to=day, variables={"province": "32"})
    with pytest.raises(ValueError, match="missing time column"):
        expand_sql("SELECT $__timeFilter()", time_from=day, time_to=day, variables={})


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_variables_are_label_values_of_real_series(name: str) -> None:
    board = _boards()[name]
    known = exported_series() | recorded_series()
    variables = board["templating"]["list"]
    assert variables[0] == {**variables[0], "name": "datasource", "type": "datasource", "query": "prometheus"}
    sources = [v for v in variables[1:] if v["type"] == "datasource"]
    if name in LONG_RANGE_BOARDS:
        assert sources == [{**sources[0], "name": "history", "query": POSTGRES_PLUGIN}], name
    else:
        assert not sources, name
    for var in variables[1 + len(sources) :]:
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
            if is_sql(t):
                continue  # tables and columns: test_sql_reads_tables_of_the_history_store_and_variables_of_the_board
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


def test_provisioning_points_at_the_boards_prometheus_and_the_history_store() -> None:
    ds = yaml.safe_load((PROVISIONING / "datasources" / "pantau.yml").read_text())
    prom, history = ds["datasources"]
    assert prom["type"] == "prometheus" and prom["isDefault"] is True
    assert (history["uid"], history["type"], history.get("isDefault", False)) == ("pantau-history", POSTGRES_PLUGIN,
                                                                                   False)  # fmt: skip
    assert history["jsonData"]["database"] and history["secureJsonData"]["password"], history
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "pantau.yml").read_text())["providers"]
    assert [p["options"]["path"] for p in providers] == ["/var/lib/grafana/dashboards/pantau"]


def test_compose_gives_grafana_every_variable_its_provisioning_reads() -> None:
    lines = (PROVISIONING / "datasources" / "pantau.yml").read_text().splitlines()
    text = "\n".join(line.split("#", 1)[0] for line in lines)  # the values, not the comments
    wanted = set(re.findall(r"\$\{(\w+)\}|\$__env\{(\w+)\}", text))
    names = {a or b for a, b in wanted}
    assert {"PANTAU_PROMETHEUS_URL", "PANTAU_HISTORY_DB_PASSWORD"} <= names
    compose = yaml.safe_load((REPO / "deploy" / "compose" / "docker-compose.yml").read_text())
    assert names <= set(compose["services"]["grafana"]["environment"]), names


def test_compose_runs_the_history_store_the_boards_read() -> None:
    import typer

    from pantau.cli import app
    from services.history.config import HISTORY_API_PORT, HISTORY_WEB_PORT

    compose = yaml.safe_load((REPO / "deploy" / "compose" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert "postgres-data" in compose["volumes"]
    init = next(v.split(":")[0] for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v)
    assert (REPO / "deploy" / "compose" / init / "10-grafana-reader.sh").is_file()
    cli = typer.main.get_command(app).commands["history"].commands  # type: ignore[attr-defined]
    for name, command in (("history", "run"), ("history-api", "api")):
        svc = services[name]
        assert svc["command"] == ["history", command] and command in cli, name
        assert svc["environment"]["PANTAU_DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert svc["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
    grafana = services["grafana"]
    assert (grafana["environment"]["PANTAU_HISTORY_DB_HOST"], grafana["environment"]["PANTAU_HISTORY_DB_USER"]) == (
        "postgres:5432", services["postgres"]["environment"]["GRAFANA_DB_USER"])  # fmt: skip

    ports = {"pantau-history": HISTORY_WEB_PORT, "pantau-history-api": HISTORY_API_PORT}
    assert ports == {"pantau-history": 6068, "pantau-history-api": 6069}
    for config, host in ((REPO / "deploy" / "compose" / "prometheus.yml", None),
                         (REPO / "deploy" / "prometheus" / "prometheus.yml", "127.0.0.1")):  # fmt: skip
        jobs = {
            j["job_name"]: j["static_configs"][0]["targets"]
            for j in yaml.safe_load(config.read_text())["scrape_configs"]
        }
        for job, port in ports.items():
            service = job.removeprefix("pantau-")
            assert jobs[job] == [f"{host or service}:{port}"], f"{config}: {job}"


def test_the_tables_region_and_province_cells_open_the_web_pages() -> None:
    """Issue 14: a region's code in a board's table is a data link to its card on the web pages
    (http://127.0.0.1:8000/wilayah/32.73), a province's to its page."""
    linked = {"Region": "http://127.0.0.1:8000/wilayah/${__value.raw}",
              "Province": "http://127.0.0.1:8000/provinsi/${__value.raw}"}  # fmt: skip
    seen = 0
    for board in _boards().values():
        for p in iter_panels(board):
            if p["type"] != "table":
                continue
            titles = {o["matcher"]["options"]: o for o in p["fieldConfig"].get("overrides", [])}
            for column, url in linked.items():
                renamed = [
                    t for s in p.get("transformations", []) for t in s["options"].get("renameByName", {}).values()
                ]
                if column in renamed:
                    links = [v["value"] for v in titles[column]["properties"] if v["id"] == "links"]
                    assert links and links[0][0]["url"] == url, (board["uid"], p["title"], column)
                    seen += 1
    assert seen >= 6  # every table that lists regions or provinces (National overview, Region detail, Dimensions)
