"""Every query of every Grafana board, run against a real Prometheus that scrapes the real services.

The test starts, against the real broker and with topics of its own, every service of the repository
(ingest, scoring, alerts), loads the national masterplan, feeds them with ``pantau simulate`` plus a
region fed at its worst (so that it falls behind its plan and alerts fire), a few HTTP requests and a
few poison records (so that rejections and dead letters exist), and starts Prometheus
(pantau/prometheus_local.py) with deploy/prometheus's rules and a 1 s scrape interval. Then it runs
each panel query of deploy/grafana/dashboards/*.json, with the template variables resolved the way
Grafana resolves them (``label_values`` through Prometheus' API), through ``/api/v1/query``, and
fails on any error or empty result. Every Prometheus panel query must be checked: the set of checked
queries must equal the set of all Prometheus queries. The SQL queries of the long-range panels (the
history store) are checked the same way by tests/integration/test_grafana_sql.py, and
tests/unit/test_grafana_boards.py shows that every query is one or the other.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pantau.prometheus_local import LocalPrometheus, PrometheusError, render_config, write_config
from pantau.simulate import quality_value
from schemas.framework import load_framework
from schemas.regions import default_registry
from services.ops.grafana_build import DASHBOARDS_DIR
from services.ops.grafana_panels import is_sql, iter_panels, query_result_line, variable_regex
from tests.integration.helpers import ServiceProcess, create_topics, free_port, http_get, metric, produce, wait_for

pytestmark = pytest.mark.integration

#: The region fed at its worst: it falls behind its plan, so its province has alerts firing.
LAGGING = "32.73"
#: Regions fed by ``pantau simulate``: the first two of every fourth province (and none of them LAGGING).
SIMULATED = tuple(
    r.code
    for prov in sorted(default_registry().provinces)[::4]
    for r in default_registry().in_province(prov)[:2]
    if r.code != LAGGING
)
#: Variable values the checks prefer when Prometheus offers them (else the first one offered).
PREFERRED = {"region": LAGGING, "province": LAGGING.split(".")[0], "dimension": "governance"}
#: What Grafana puts in for its built-in variables (the data here spans about a minute).
BUILTINS = {"__rate_interval": "30s", "__interval": "1s", "__range": "5m"}
READY_TIMEOUT = 180.0


@dataclass(frozen=True)
class Target:
    board: str
    panel: str
    ref: str
    expr: str  # variables substituted

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.board, self.panel, self.ref)


@dataclass
class Stack:
    prometheus: LocalPrometheus
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    feed: subprocess.Popen[bytes] | None = None
    feed_log: Path | None = None

    def logs(self) -> str:
        return "\n\n".join(f"--- {name} ({svc.log}):\n{svc.tail(25)}" for name, svc in self.services.items())


# ---------------------------------------------------------------------------------------- the stack


def _cli(*argv: str, env: dict[str, str], timeout: float = 120.0) -> str:
    """Run ``pantau ARGV`` to completion; its stdout (fails the test with its output on error)."""
    out = subprocess.run([sys.executable, "-m", "pantau.cli", *argv], env={**os.environ, **env}, capture_output=True,
                         text=True, timeout=timeout, check=False)  # fmt: skip
    assert out.returncode == 0, f"pantau {' '.join(argv)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _post(url: str, body: object, key: str | None) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {key}"} if key else {})})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _wait_healthy(svc: ServiceProcess, port: int) -> None:
    def healthy() -> bool:
        return svc.alive() and http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200

    wait_for(f"{' '.join(svc.argv)} to answer /healthz (log {svc.log})", healthy, timeout=90)


def _sample(port: int, name: str) -> float | None:
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    return metric(body.decode(errors="replace"), name) if status == 200 else None


def _worst_events(region: str) -> list[dict[str, Any]]:
    """One reading of every indicator at the worst end of its typical range, observed a minute ago."""
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return [{"event_id": str(uuid.uuid4()), "region_code": region, "indicator_id": ind.id,
             "value": round(quality_value(ind, 0.0), 3), "unit": ind.unit, "observed_at": at, "source": "test"}
            for ind in load_framework().indicators]  # fmt: skip


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("boards")
    prefix = f"g{uuid.uuid4().hex[:8]}-"
    create_topics(kafka_bootstrap, prefix)
    base = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PANTAU_HOME": str(tmp / "home"), "PANTAU_LOG_FORMAT": "json"}
    ports = {"ingest": free_port(), "scoring": free_port(), "alerts": free_port()}
    publishers = tmp / "publishers.yaml"
    env = {
        "scoring": {**base, "SCORING_TOPIC_PREFIX": prefix, "SCORING_APP_ID": f"scoring-{prefix}",
                    "SCORING_WEB_PORT": str(ports["scoring"]), "SCORING_DATA_DIR": str(tmp / "scoring"),
                    "SCORING_STORE": "memory", "SCORING_PUBLISH_INTERVAL": "0.2",
                    "SCORING_PERSIST_INTERVAL": "0.2", "SCORING_STALENESS_INTERVAL": "2"},
        "alerts": {**base, "ALERTS_TOPIC_PREFIX": prefix, "ALERTS_APP_ID": f"alerts-{prefix}",
                   "ALERTS_WEB_PORT": str(ports["alerts"]), "ALERTS_DATA_DIR": str(tmp / "alerts"),
                   "ALERTS_STORE": "memory", "ALERTS_PENDING_FOR": "PT0S"},
        "ingest": {**base, "INGEST_TOPIC_PREFIX": prefix, "INGEST_PUBLISHERS_FILE": str(publishers),
                   "INGEST_VALIDATOR_GROUP": f"validator-{prefix}"},
    }  # fmt: skip
    argv = {"ingest": ["ingest", "run", "--port", str(ports["ingest"])], "scoring": ["scoring", "run"],
            "alerts": ["alerts", "run"]}  # fmt: skip
    key = _cli("publishers", "add", "grafana-test", "--all-regions", "--all-indicators", "--file", str(publishers),
               env=env["ingest"]).strip().splitlines()[-1]  # fmt: skip
    _cli("masterplan", "load", env=env["alerts"])  # the national default plan, onto this test's topic

    cfg = render_config(
        targets={f"pantau-{name}": [f"127.0.0.1:{port}"] for name, port in ports.items()},
        scrape_interval="1s", evaluation_interval="1s", alertmanagers=[],
    )  # fmt: skip
    prom = LocalPrometheus(write_config(cfg, tmp / "prometheus.yml"), tmp / "tsdb", port=free_port())
    st = Stack(prometheus=prom)
    simulate: subprocess.Popen[bytes] | None = None
    try:
        for name in ("scoring", "alerts", "ingest"):
            st.services[name] = ServiceProcess(argv[name], env[name], tmp / f"{name}.log").start()
        for name, port in ports.items():
            _wait_healthy(st.services[name], port)
        prom.start()
        # The alerts service must hold the plans before the first scores reach it.
        adopted = "pantau_programme_masterplans_adopted"
        wait_for("the alerts service to read the masterplans", lambda: (_sample(ports["alerts"], adopted) or 0) > 0,
                 timeout=60)  # fmt: skip

        # The feed: the simulator through the raw topic (ingest's validator), the lagging region over HTTP.
        st.feed_log = tmp / "simulate.log"
        with st.feed_log.open("ab") as out:
            simulate = subprocess.Popen(
                [sys.executable, "-m", "pantau.cli", "simulate", "--regions", ",".join(SIMULATED), "--rate", "200",
                 "--drift", "0", "--duration", "60", "--to", "raw"],
                env={**os.environ, **env["alerts"]}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        events_url = f"http://127.0.0.1:{ports['ingest']}/v1/events"
        assert _post(events_url, _worst_events(LAGGING), key) == 200
        st.feed = simulate
        unknown = {**_worst_events(LAGGING)[0], "indicator_id": "NO_SUCH_INDICATOR"}
        assert _post(events_url, [unknown], key) == 422  # rejected: events_rejected_total{source="http"}
        assert _post(events_url, [unknown], None) == 401
        # Poison for every service's dead-letter path.
        produce(kafka_bootstrap, prefix + "indicator-events.raw", [(b"35.78", b"\x00 not json")])
        produce(kafka_bootstrap, prefix + "indicator-events", [(b"35.78", b"\x00 not json")])
        produce(kafka_bootstrap, prefix + "region-scores", [(b"35.78", b"\x00 not json")])
        yield st
    finally:
        if simulate is not None and simulate.poll() is None:
            simulate.terminate()
            simulate.wait(30)
        prom.stop()
        for svc in st.services.values():
            if svc.alive():
                svc.stop()


# ---------------------------------------------------------------------------------------- the boards


def _boards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS_DIR.glob("*.json"))}


def prometheus_targets(panel: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in panel.get("targets", []) if not is_sql(t)]


def all_query_keys() -> set[tuple[str, str, str]]:
    """(board uid, panel title, refId) of every Prometheus query of every board."""
    return {(b["uid"], p["title"], t["refId"]) for b in _boards().values() for p in iter_panels(b)
            for t in prometheus_targets(p)}  # fmt: skip


def substitute(text: str, values: dict[str, str]) -> str:
    for name in sorted(values, key=len, reverse=True):
        v = values[name]
        text = text.replace("${" + name + "}", v).replace("[[" + name + "]]", v).replace("$" + name, v)
    return text


_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.*),\s*)?(?P<label>\w+)\)$", re.S)


_QUERY_RESULT = re.compile(r"^query_result\((?P<expr>.*)\)$", re.S)


def variable_options(prom: LocalPrometheus, var: dict[str, Any], values: dict[str, str]) -> list[str]:
    """The values Grafana would offer for a ``label_values`` or ``query_result`` (with a regex) query
    variable, given earlier variables."""
    query = substitute(str(var["query"]).strip(), values)
    qr = _QUERY_RESULT.match(query)
    if qr is not None:
        lines = [query_result_line(s) for s in prom.api("query", {"query": qr["expr"]})["result"]]
        pattern = variable_regex(var["regex"])
        found = [m for m in map(pattern.search, lines) if m is not None]
        return sorted({m["value"] if "value" in pattern.groupindex else m[1] for m in found})
    m = _LABEL_VALUES.match(query)
    assert m, f"variable {var['name']}: label_values(...) or query_result(...) only, not {var['query']!r}"
    label, selector = m["label"], m["selector"]
    if selector is None:
        return sorted(prom.api(f"label/{label}/values"))
    return sorted({s[label] for s in prom.api("series", {"match[]": selector}) if label in s})


def resolve_targets(prom: LocalPrometheus) -> tuple[list[Target], list[str]]:
    """Every panel query with its variables substituted (a repeated panel once per option)."""
    targets: list[Target] = []
    problems: list[str] = []
    for board in _boards().values():
        values = dict(BUILTINS)
        options: dict[str, list[str]] = {}
        for var in board.get("templating", {}).get("list", []):
            if var["type"] == "datasource":
                continue
            opts = variable_options(prom, var, values)
            options[var["name"]] = opts
            if not opts:
                problems.append(f"{board['uid']}: variable ${var['name']} has no options ({var['query']})")
                values[var["name"]] = "__none__"
            elif var.get("current", {}).get("value") == "$__all":
                values[var["name"]] = var.get("allValue") or "|".join(opts)
            else:
                values[var["name"]] = PREFERRED[var["name"]] if PREFERRED.get(var["name"]) in opts else opts[0]
        for panel in iter_panels(board):
            repeat = panel.get("repeat")
            runs = [{**values, repeat: o} for o in options.get(repeat, [])] if repeat else [values]
            for run, t in itertools.product(runs, prometheus_targets(panel)):
                targets.append(Target(board["uid"], panel["title"], t["refId"], substitute(t["expr"], run)))
    return targets, problems


def run_all(prom: LocalPrometheus, targets: list[Target]) -> tuple[set[tuple[str, str, str]], list[str], list[str]]:
    """(keys of the queries that answered with data, errors, empty ones)."""
    ok: set[tuple[str, str, str]] = set()
    errors: list[str] = []
    empty: list[str] = []
    failed: set[tuple[str, str, str]] = set()
    for t in targets:
        try:
            result = prom.query(t.expr)
        except PrometheusError as exc:
            errors.append(f"{t.board} / {t.panel} / {t.ref}: {t.expr}\n    {exc}")
            failed.add(t.key)
            continue
        if not result:
            empty.append(f"{t.board} / {t.panel} / {t.ref}: {t.expr}")
            failed.add(t.key)
        else:
            ok.add(t.key)
    return ok - failed, errors, empty


def test_every_panel_query_answers_with_data(stack: Stack) -> None:
    prom = stack.prometheus
    everything = all_query_keys()
    assert everything, f"no panel queries in {DASHBOARDS_DIR}"

    def scraped() -> bool:
        up = prom.targets_up()
        return len(up) == len(stack.services) and all(up.values())

    wait_for(f"Prometheus to scrape every service: {prom.url}/targets\n{stack.logs()}", scraped, timeout=90)

    state: dict[str, Any] = {}

    def all_answer() -> bool:
        feed = stack.feed
        if feed is not None and feed.poll() not in (None, 0):
            log = stack.feed_log.read_text(errors="replace") if stack.feed_log else ""
            raise AssertionError(f"pantau simulate failed ({feed.returncode}):\n{log}")
        targets, problems = resolve_targets(prom)
        ok, errors, empty = run_all(prom, targets)
        state.update(targets=targets, problems=problems, ok=ok, errors=errors, empty=empty)
        assert not errors, "queries that Prometheus refused:\n" + "\n".join(errors)  # an error never heals
        return not problems and not empty

    deadline = time.monotonic() + READY_TIMEOUT
    while not all_answer() and time.monotonic() < deadline:
        time.sleep(3)
    assert not state["problems"], "\n".join(state["problems"]) + "\n" + stack.logs()
    assert not state["empty"], (
        f"{len(state['empty'])} panel queries answered no data after {READY_TIMEOUT:.0f}s:\n"
        + "\n".join(state["empty"]) + "\n" + stack.logs()
    )  # fmt: skip
    unchecked = everything - state["ok"]
    assert not unchecked, f"panel queries never checked: {sorted(unchecked)}"
    assert state["ok"] == everything
