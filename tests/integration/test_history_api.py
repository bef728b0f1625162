"""The history query API as a user runs it (``pantau history api``), on the real PostgreSQL, with rows the
writer's own store wrote: a region's monthly series against its plan's path, a ranking as of a day, a
region's alerts, the programme's progress, CSV that parses back to the JSON's figures, the errors, keys
and the rate limit, the command line's ``pantau history show/ranking --json`` (the same bodies), and
schemathesis over the OpenAPI document.

Every expected figure is worked out here from the rows written (the path of a plan rising from 2.0 on
2024-12-31 to 2.3 on 2025-12-31 is 2.0 + 0.3 * days / 365).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
import schemathesis
import sqlalchemy as sa
from schemathesis.transport import requests as schemathesis_requests

from services.history.adapters.postgres import PostgresStore
from services.history.domain import Batch, Downsampling, Row, Source, plan_row, snapshot_rows, transition_row
from services.history.service.ports import Advance
from tests.history_support import a_masterplan, a_region_score, an_alert_event
from tests.integration.helpers import ServiceProcess, free_port, history_schema, wait_for
from tests.schemathesis_support import run_all_phases

pytestmark = pytest.mark.integration

FRAMEWORK = "pp59_2022@2026.1"  # the shipped framework: the API's default
NOW = datetime(2025, 5, 1, tzinfo=UTC)
#: (region, UTC time of the score, index, level): days are local (WIB for 32.x, WIT for 91.x).
SCORES = [
    ("32.73", datetime(2025, 1, 10, 5, tzinfo=UTC), 2.0, 3),
    ("32.73", datetime(2025, 1, 31, 9, tzinfo=UTC), 2.4, 3),
    ("32.73", datetime(2025, 2, 15, 9, tzinfo=UTC), 2.6, 3),
    ("32.73", datetime(2025, 4, 2, 9, tzinfo=UTC), 2.05, 3),
    ("32.04", datetime(2025, 2, 20, 9, tzinfo=UTC), 2.6, 3),
    ("91.03", datetime(2025, 1, 5, 9, tzinfo=UTC), 3.1, 4),
    ("11.01", datetime(2025, 2, 20, 3, tzinfo=UTC), None, None),
]


def path(day: date) -> float:
    """The plan's index path: 2.0 on 2024-12-31 rising evenly to 2.3 on 2025-12-31."""
    return 2.0 + 0.3 * (day - date(2024, 12, 31)).days / 365


@dataclass
class Api:
    url: str
    env: dict[str, str]
    proc: ServiceProcess


def start_api(database: str, tmp: Path, **env: str) -> Api:
    port = free_port()
    full = {"PANTAU_DATABASE_URL": database, "HISTORY_API_PORT": str(port), "PANTAU_HOME": str(tmp), **env}
    proc = ServiceProcess(["history", "api"], full, tmp / f"api-{port}.log").start()
    url = f"http://127.0.0.1:{port}"
    wait_for("the history API to answer /healthz", lambda: _up(url), 60)
    return Api(url, full, proc)


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[str]:
    """A schema of its own with the rows above, written by the writer's store; its URL (search_path set)."""
    with history_schema(postgres_url, "ha") as (url, engine):
        yield _filled(url, engine)


def _filled(url: str, engine: sa.Engine) -> str:
    rows: list[Row] = []
    for n, (region, at, index, level) in enumerate(SCORES):
        score = a_region_score(region_code=region, province_code=region[:2], framework=FRAMEWORK, evaluated_at=at,
                               index=index, level=level, status="ok" if index is not None else "insufficient_data",
                               level_name=None)  # fmt: skip
        rows += snapshot_rows(score, Source("region-scores", 0, n), Downsampling(), NOW)
    milestones = [{"due": "2024-12-31", "targets": {"index": 2.0}}, {"due": "2025-12-31", "targets": {"index": 2.3}}]
    seen = int(datetime(2024, 6, 1, tzinfo=UTC).timestamp() * 1000)  # the plan's record's Kafka timestamp
    plan = a_masterplan(framework_id="pp59_2022", milestones=milestones)
    rows.append(plan_row(plan, Source("masterplan-milestones", 0, 0, seen), NOW))
    firing = an_alert_event(at=datetime(2025, 4, 2, 10, tzinfo=UTC))
    resolved = an_alert_event(transition_id="u" * 24, state="resolved", at=datetime(2025, 4, 20, 10, tzinfo=UTC))
    # An alert still open (in another region), with drivers and a remedy: the open alerts' bodies are checked too.
    driver = {"indicator_id": "GOV_UPTIME", "score": 1.0, "weight": 2.0, "pull": 0.3}
    still_open = an_alert_event(alert_id="o" * 24, transition_id="v" * 24, region_code="91.03", province_code="91",
                                at=datetime(2025, 4, 3, 10, tzinfo=UTC), remedy="Raise GOV_UPTIME.",
                                drivers=[driver])  # fmt: skip
    rows += [transition_row(firing, Source("maturity-alerts", 0, 0)),
             transition_row(resolved, Source("maturity-alerts", 0, 1)),
             transition_row(still_open, Source("maturity-alerts", 0, 2))]  # fmt: skip
    PostgresStore(engine, consumer="pantau-history").write(Batch.of(rows), [Advance(("region-scores", 0), None, 7)])
    return url


@pytest.fixture(scope="module")
def api(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    a = start_api(database, tmp_path_factory.mktemp("history-api"), HISTORY_API_RATE_LIMIT="100000/minute")
    yield a
    assert a.proc.stop() == 0


def get(api: Api, path_: str, **params: str | int) -> requests.Response:
    return requests.get(api.url + path_, params=params, timeout=10)


def test_a_regions_monthly_series_against_its_plans_path(api: Api) -> None:
    r = get(api, "/v1/regions/32.73/history", **{"from": "2025-01-01", "to": "2025-04-30", "resolution": "month"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["name"] == "Kota Bandung" and body["framework"] == FRAMEWORK
    assert (body["from"], body["to"]) == ("2025-01-01", "2025-04-30")
    jan, feb, mar, apr = body["points"]
    assert [p["period"] for p in body["points"]] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    # January: two days (10th: 2.0, 31st: 2.4); the closing one is the 31st's.
    assert (jan["days"], jan["closing"]["day"], jan["closing"]["index"]) == (2, "2025-01-31", 2.4)
    assert (jan["index_mean"], jan["index_min"], jan["index_max"]) == (2.2, 2.0, 2.4)
    assert jan["expected"]["index"] == pytest.approx(path(date(2025, 1, 31)), abs=1e-6)
    assert jan["gap"] == pytest.approx(path(date(2025, 1, 31)) - 2.4, abs=1e-6)
    assert feb["closing"]["index"] == 2.6 and feb["plan_id"] == "bandung-2029"
    assert mar["closing"] is None and mar["days"] == 0
    assert mar["expected"]["index"] == pytest.approx(path(date(2025, 3, 31)), abs=1e-6)
    assert apr["gap"] == pytest.approx(path(date(2025, 4, 30)) - 2.05, abs=1e-6) and apr["gap"] > 0  # behind
    assert apr["closing"]["simulated"] is False

    csv_rows = list(csv.DictReader(io.StringIO(get(api, "/v1/regions/32.73/history", **{
        "from": "2025-01-01", "to": "2025-04-30", "format": "csv"}).text)))  # fmt: skip
    assert [(row["period"], row["index"], row["days"]) for row in csv_rows] == [
        ("2025-01", "2.4", "2"), ("2025-02", "2.6", "1"), ("2025-03", "", "0"), ("2025-04", "2.05", "1")]  # fmt: skip
    assert float(csv_rows[0]["expected_index"]) == jan["expected"]["index"]


def test_the_ranking_as_of_a_day(api: Api) -> None:
    body = get(api, "/v1/ranking", on="2025-02-20").json()
    # 91.03 (3.1, as of 5 Jan), then 32.04 and 32.73 tied at 2.6, then 11.01 without an index.
    assert [(r["region"]["code"], r["rank"], r["as_of"]["day"]) for r in body["regions"]] == [
        ("91.03", 1, "2025-01-05"), ("32.04", 2, "2025-02-20"), ("32.73", 2, "2025-02-15"),
        ("11.01", None, "2025-02-20"),
    ]  # fmt: skip
    assert (body["scored"], body["count"]) == (4, 4)
    bandung = body["regions"][2]
    assert bandung["expected_index"] == pytest.approx(path(date(2025, 2, 20)), abs=1e-6)
    assert bandung["behind_plan"] is False and body["regions"][1]["behind_plan"] is None  # 32.04 has no plan
    west_java = get(api, "/v1/ranking", on="2025-02-20", province="32").json()
    assert [(r["region"]["code"], r["rank"], r["national_rank"]) for r in west_java["regions"]] == [
        ("32.04", 1, 2), ("32.73", 1, 2)]  # fmt: skip
    kota = get(api, "/v1/ranking", on="2025-02-20", type="kota").json()
    assert [r["region"]["code"] for r in kota["regions"]] == ["32.73"]
    level4 = get(api, "/v1/ranking", on="2025-02-20", level=4).json()
    assert [r["region"]["code"] for r in level4["regions"]] == ["91.03"]
    before = get(api, "/v1/ranking", on="2025-01-09").json()  # Bandung's first day is the 10th
    assert [r["region"]["code"] for r in before["regions"]] == ["91.03"]
    exported = list(csv.DictReader(io.StringIO(get(api, "/v1/ranking", on="2025-02-20", format="csv").text)))
    assert [(row["region_code"], row["rank"], row["index"]) for row in exported] == [
        (r["region"]["code"], str(r["rank"] or ""), "" if r["as_of"]["index"] is None else str(r["as_of"]["index"]))
        for r in body["regions"]]  # fmt: skip


def test_alerts_and_programme_progress(api: Api) -> None:
    alerts = get(api, "/v1/regions/32.73/alerts", **{"from": "2025-04-01", "to": "2025-04-30"}).json()
    assert [(t["state"], t["at"][:10]) for t in alerts["transitions"]] == [("resolved", "2025-04-20"),
                                                                          ("firing", "2025-04-02")]  # fmt: skip
    only = get(api, "/v1/regions/32.73/alerts", **{"from": "2025-04-01", "to": "2025-04-10"}).json()
    assert only["count"] == 1
    prog = get(api, "/v1/programme/progress", **{"from": "2025-01-01", "to": "2025-02-28"}).json()
    jan, feb = prog["points"]
    # 31 Jan: 32.73 (2.4, level 3) and 91.03 (3.1, level 4); 28 Feb: + 32.04 (2.6) and 11.01 (no index).
    assert (jan["regions_scored"], jan["levels"]["3"], jan["levels"]["4"]) == (2, 1, 1)
    assert jan["mean_index"] == pytest.approx((2.4 + 3.1) / 2)
    assert (feb["regions_scored"], feb["behind_plan"], feb["on_or_above_plan"], feb["without_plan"]) == (4, 0, 1, 3)
    assert feb["assisted_cumulative"] == 251  # Kominfo: 251 assisted 2017-2024 (no 2025 figure yet)
    assert prog["masterplan_target"] == 263


def test_errors_say_what_is_wrong(api: Api) -> None:
    cases = [
        ("/v1/regions/99.99/history", {}, 404, "unknown_region"),
        ("/v1/regions/32.73/history", {"from": "2025-03-01", "to": "2025-01-01"}, 422, "dates_out_of_order"),
        ("/v1/regions/32.73/history", {"from": "2025-13-01"}, 422, "invalid_value"),
        ("/v1/regions/32.73/history", {"resolution": "hour"}, 422, "invalid_value"),
        ("/v1/regions/32.73/history", {"from": "1900-01-01", "to": "2029-12-31", "resolution": "day"}, 422,
         "too_many_points"),
        ("/v1/ranking", {"province": "99"}, 404, "unknown_province"),
        ("/v1/programme/progress", {"resolution": "day"}, 422, "invalid_value"),
        ("/v1/nothing", {}, 404, "not_found"),
    ]  # fmt: skip
    for path_, params, status, code in cases:
        r = get(api, path_, **params)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path_, params, r.text)
        assert r.json()["error"]["message"]


def test_a_key_when_keys_are_required_and_the_rate_limit(database: str, tmp_path: Path) -> None:
    a = start_api(database, tmp_path, HISTORY_API_KEYS="k-one,k-two", HISTORY_API_RATE_LIMIT="3/minute")
    try:
        assert get(a, "/v1/ranking").status_code == 401
        assert requests.get(a.url + "/v1/ranking", headers={"X-API-Key": "wrong"}, timeout=5).status_code == 401
        ok = [requests.get(a.url + "/v1/ranking", headers={"X-API-Key": "k-one"}, timeout=5) for _ in range(3)]
        assert [r.status_code for r in ok] == [200, 200, 200]
        limited = requests.get(a.url + "/v1/ranking", headers={"X-API-Key": "k-one"}, timeout=5)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert requests.get(a.url + "/v1/ranking", headers={"X-API-Key": "k-two"}, timeout=5).status_code == 200
    finally:
        a.proc.stop()


def test_the_command_line_answers_with_the_apis_bodies(api: Api) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pantau.cli", "history", *args], env=api.proc.env,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    shown = cli("show", "32.73", "--from", "2025-01-01", "--to", "2025-04-30", "--resolution", "month", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == get(api, "/v1/regions/32.73/history", **{
        "from": "2025-01-01", "to": "2025-04-30", "resolution": "month"}).json()  # fmt: skip
    ranked = cli("ranking", "--on", "2025-02-20", "--province", "32", "--json")
    assert json.loads(ranked.stdout) == get(api, "/v1/ranking", on="2025-02-20", province="32").json()
    text = cli("show", "32.73", "--from", "2025-01-01", "--to", "2025-02-28")
    assert "Kota Bandung" in text.stdout and "2025-01" in text.stdout and "2.40" in text.stdout
    bad = cli("show", "99.99")
    assert bad.returncode == 1 and "no kabupaten/kota has the code '99.99'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_api_keeps_its_openapi_contract(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemathesis's phases and checks over every operation (as tests/integration/test_ingest_schemathesis.py)."""
    monkeypatch.setattr(schemathesis_requests, "_count_opened_connections", lambda _session: 0)
    config = schemathesis.Config.from_dict({
        "generation": {"max-examples": 30},
        "suppress-health-check": ["too_slow", "filter_too_much"],
        "checks": {"negative_data_rejection": {"expected-statuses": ["400", "404", "422"]},
                   "positive_data_acceptance": {"expected-statuses": ["200", "404", "422"]}},
        "request-timeout": 30,
    })  # fmt: skip
    schema = schemathesis.openapi.from_url(api.url + "/openapi.json", config=config)
    found = run_all_phases(schema)
    assert not found.failures, found.report()
    # Every operation, and the stateful phase (the links schemathesis infers: an alert's id to /v1/alerts/{id}).
    assert len(set(found.operations) - {"Stateful tests"}) == 8, found.operations  # the 8 GET /v1 routes
    assert found.checked["not_a_server_error"] >= 50 and found.checked["response_schema_conformance"] >= 20, (
        found.checked
    )


def test_a_regions_plan_in_force(api: Api) -> None:
    r = get(api, "/v1/regions/32.73/plan", on="2025-03-01")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["name"] == "Kota Bandung" and body["on"] == "2025-03-01"
    assert body["plan"]["plan_id"] == "bandung-2029"
    assert [(m["due"], m["targets"]) for m in body["plan"]["milestones"]] == [
        ("2024-12-31", {"index": 2.0}), ("2025-12-31", {"index": 2.3})]  # fmt: skip
    none = get(api, "/v1/regions/32.04/plan")  # 32.04 has no plan in the store
    assert none.status_code == 404 and none.json()["error"]["code"] == "no_plan"
    assert get(api, "/v1/regions/99.99/plan").json()["error"]["code"] == "unknown_region"
