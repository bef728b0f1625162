"""The history query API's alerts (``pantau history api``) on the real PostgreSQL, with transitions the
writer's own store wrote: the alerts open now (``GET /v1/alerts``: by province and region, most severe
first, then the widest gap, then by region), one alert with its transitions (``GET /v1/alerts/{id}``),
the drivers and remedy every transition carries, the errors, and the key when keys are required.

The episodes below, each an alert id (times UTC, April 2025):

====  =======  ===========  =============================================================  ====================
id    region   target       transitions                                                    now
====  =======  ===========  =============================================================  ====================
a1    32.73    index        pending 1st 09:50, firing 1st 10:00 (warning, gap 0.5),        open, acknowledged
                            acknowledged 1st 11:00
a2    32.73    governance   firing 2nd 10:00 (warning, gap 0.8), resolved 5th 10:00        closed
a3    32.04    index        firing 3rd 10:00 (critical, gap 0.3)                           open
a4    91.03    index        firing 4th 10:00 (warning, gap 0.9), firing 4th 12:00          open, escalated
                            (escalated to the province)
a5    32.73    environment  firing 6th 10:00 (warning, gap 0.7), acknowledged 6th 11:00,   open (firing),
                            firing 7th 10:00 (critical, gap 1.1)                           acknowledged
a6    32.04    governance   firing 8th 10:00 (warning, gap 0.5)                            open
a7    91.03    governance   firing 9th 10:00 (info, gap 2.0)                               open
a8    32.73    economy      pending 10th 10:00                                             never fired
====  =======  ===========  =============================================================  ====================

Open, in order: critical a5 (1.1), a3 (0.3); warning a4 (0.9), a6 and a1 (0.5 each: 32.04 before 32.73);
info a7 (2.0: its gap does not lift it above the warnings).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from services.history.adapters.postgres import PostgresStore
from services.history.domain import Batch, Source, transition_row
from services.history.service.ports import Advance
from tests.history_support import an_alert_event
from tests.integration.helpers import ServiceProcess, free_port, history_schema, wait_for

pytestmark = pytest.mark.integration

A1_DRIVERS = [
    {"indicator_id": "GOV_UPTIME", "score": 1.5, "weight": 3.0, "pull": 0.42},
    {"indicator_id": "ENV_PM25", "score": None, "weight": 1.0, "pull": 0.1},
]
A1_REMEDY = "Raise GOV_UPTIME to 99.5% (+0.42) to get back on the path."
A5_DRIVERS = [{"indicator_id": "ENV_PM25", "score": 0.5, "weight": 1.0, "pull": 0.9}]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 4, day, hour, minute, tzinfo=UTC)


def event(alert: str, step: str, region: str, state: str, when: datetime, **fields: Any) -> Any:
    gap = fields.pop("gap", 0.5)
    return an_alert_event(
        alert_id=alert, transition_id=f"{alert}-{step}", region_code=region, province_code=region[:2], state=state,
        at=when, current=2.0, expected=round(2.0 + gap, 6), gap=gap, summary=f"{alert} {step}", **fields,
    )  # fmt: skip


EVENTS = [
    event("a1", "pending", "32.73", "pending", at(1, 9, 50), drivers=A1_DRIVERS, remedy=A1_REMEDY),
    event("a1", "firing", "32.73", "firing", at(1, 10), drivers=A1_DRIVERS, remedy=A1_REMEDY),
    event("a1", "ack", "32.73", "acknowledged", at(1, 11), drivers=A1_DRIVERS, remedy=A1_REMEDY),
    event("a2", "firing", "32.73", "firing", at(2, 10), target="governance", gap=0.8, remedy="Publish more data."),
    event("a2", "resolved", "32.73", "resolved", at(5, 10), target="governance", gap=-0.1),
    event("a3", "firing", "32.04", "firing", at(3, 10), severity="critical", gap=0.3),
    event("a4", "firing", "91.03", "firing", at(4, 10), gap=0.9),
    event("a4", "province", "91.03", "firing", at(4, 12), gap=0.9, escalation="province"),
    event("a5", "firing", "32.73", "firing", at(6, 10), target="environment", gap=0.7, drivers=A5_DRIVERS),
    event("a5", "ack", "32.73", "acknowledged", at(6, 11), target="environment", gap=0.7, drivers=A5_DRIVERS),
    event("a5", "critical", "32.73", "firing", at(7, 10), target="environment", gap=1.1, severity="critical",
          previous_severity="warning", drivers=A5_DRIVERS, remedy="Cut PM2.5 below 35."),
    event("a6", "firing", "32.04", "firing", at(8, 10), target="governance", gap=0.5),
    event("a7", "firing", "91.03", "firing", at(9, 10), target="governance", gap=2.0, severity="info"),
    event("a8", "pending", "32.73", "pending", at(10, 10), target="economy"),
]  # fmt: skip


@dataclass
class Api:
    url: str
    proc: ServiceProcess
    database: str


def start_api(database: str, tmp: Path, **env: str) -> Api:
    port = free_port()
    full = {"PANTAU_DATABASE_URL": database, "HISTORY_API_PORT": str(port), "PANTAU_HOME": str(tmp), **env}
    proc = ServiceProcess(["history", "api"], full, tmp / f"api-{port}.log").start()
    url = f"http://127.0.0.1:{port}"
    wait_for("the history API to answer /healthz", lambda: _up(url), 60)
    return Api(url, proc, database)


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[str]:
    """A schema of its own with the transitions above, written by the writer's store; its URL."""
    with history_schema(postgres_url, "hal") as (url, engine):
        _fill(engine)
        yield url


def _fill(engine: sa.Engine) -> None:
    rows = [transition_row(e, Source("maturity-alerts", 0, n)) for n, e in enumerate(EVENTS)]
    PostgresStore(engine, consumer="pantau-history").write(
        Batch.of(rows), [Advance(("maturity-alerts", 0), None, len(rows))]
    )


@pytest.fixture(scope="module")
def api(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    a = start_api(database, tmp_path_factory.mktemp("history-alerts-api"), HISTORY_API_RATE_LIMIT="100000/minute")
    yield a
    assert a.proc.stop() == 0


def get(api: Api, path: str, **params: str | int) -> requests.Response:
    return requests.get(api.url + path, params=params, timeout=10)


def open_ids(api: Api, **params: str | int) -> list[str]:
    r = get(api, "/v1/alerts", **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["alerts"])
    return [a["alert_id"] for a in body["alerts"]]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_open_alerts_most_severe_first_then_by_gap_then_by_region(api: Api) -> None:
    assert open_ids(api) == ["a5", "a3", "a4", "a6", "a1", "a7"]  # a2 resolved, a8 never fired
    assert open_ids(api, limit=2) == ["a5", "a3"]


def test_the_open_alerts_of_a_province_or_a_region(api: Api) -> None:
    assert open_ids(api, province="32") == ["a5", "a3", "a6", "a1"]
    assert open_ids(api, province="91") == ["a4", "a7"]
    assert open_ids(api, region="32.73") == ["a5", "a1"]
    assert open_ids(api, region="32.04", province="32") == ["a3", "a6"]
    assert open_ids(api, region="91.03", province="32") == []  # both: the region, if it is in the province
    assert open_ids(api, province="11") == []  # a province without alerts


def test_an_open_alert_as_of_its_newest_transition(api: Api) -> None:
    alerts = {a["alert_id"]: a for a in get(api, "/v1/alerts").json()["alerts"]}
    a1 = alerts["a1"]
    assert a1["region"] == {"code": "32.73", "name": "Kota Bandung", "type": "kota", "province_code": "32",
                            "province_name": "Jawa Barat"}  # fmt: skip
    assert (a1["kind"], a1["target"], a1["state"], a1["severity"], a1["escalation"]) == (
        "behind_trajectory", "index", "acknowledged", "warning", "region")  # fmt: skip
    assert a1["acknowledged"] is True
    assert when(a1["fired_at"]) == at(1, 10)  # its first firing, not the pending before it
    assert when(a1["at"]) == at(1, 11)
    assert (a1["current"], a1["expected"], a1["gap"], a1["milestone_due"]) == (2.0, 2.5, 0.5, None)
    assert a1["summary"] == "a1 ack"
    assert a1["drivers"] == A1_DRIVERS and a1["remedy"] == A1_REMEDY
    # a5: acknowledged on the 6th, then firing again on the 7th in the critical band: still acknowledged.
    a5 = alerts["a5"]
    assert (a5["state"], a5["severity"], a5["gap"], a5["acknowledged"]) == ("firing", "critical", 1.1, True)
    assert when(a5["fired_at"]) == at(6, 10) and when(a5["at"]) == at(7, 10)
    assert a5["drivers"] == A5_DRIVERS and a5["remedy"] == "Cut PM2.5 below 35."
    # a4: never acknowledged, escalated to the province; it fired at 10:00.
    a4 = alerts["a4"]
    assert (a4["acknowledged"], a4["escalation"], when(a4["fired_at"]), when(a4["at"])) == (
        False, "province", at(4, 10), at(4, 12))  # fmt: skip
    assert a4["region"]["name"] == "Kabupaten Jayapura" and a4["region"]["province_name"] == "Papua"
    assert a4["drivers"] == [] and a4["remedy"] == ""


def test_the_open_alerts_as_csv(api: Api) -> None:
    r = get(api, "/v1/alerts", province="32", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["alert_id"], row["region_code"], row["severity"], row["acknowledged"]) for row in rows] == [
        ("a5", "32.73", "critical", "True"), ("a3", "32.04", "critical", "False"),
        ("a6", "32.04", "warning", "False"), ("a1", "32.73", "warning", "True"),
    ]  # fmt: skip
    assert rows[3]["remedy"] == A1_REMEDY and rows[3]["region_name"] == "Kota Bandung"
    assert when(rows[3]["fired_at"]) == at(1, 10)


def test_one_alert_with_its_transitions_newest_first(api: Api) -> None:
    r = get(api, "/v1/alerts/a1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["alert_id"], body["region"]["code"], body["open"]) == ("a1", "32.73", True)
    assert body["latest"] == get(api, "/v1/alerts", region="32.73").json()["alerts"][1]  # as the list has it
    assert [(t["transition_id"], t["state"], when(t["at"])) for t in body["transitions"]] == [
        ("a1-ack", "acknowledged", at(1, 11)), ("a1-firing", "firing", at(1, 10)),
        ("a1-pending", "pending", at(1, 9, 50)),
    ]  # fmt: skip
    assert all(t["drivers"] == A1_DRIVERS and t["remedy"] == A1_REMEDY for t in body["transitions"])

    closed = get(api, "/v1/alerts/a2").json()
    assert (closed["open"], closed["latest"]["state"], closed["latest"]["gap"]) == (False, "resolved", -0.1)
    assert when(closed["latest"]["fired_at"]) == at(2, 10) and closed["latest"]["acknowledged"] is False
    assert [(t["state"], t["remedy"]) for t in closed["transitions"]] == [("resolved", ""),
                                                                         ("firing", "Publish more data.")]  # fmt: skip

    never = get(api, "/v1/alerts/a8").json()
    assert (never["open"], never["latest"]["state"], never["latest"]["fired_at"]) == (False, "pending", None)


def test_a_regions_transitions_carry_drivers_and_remedy(api: Api) -> None:
    body = get(api, "/v1/regions/32.73/alerts", **{"from": "2025-04-01", "to": "2025-04-01"}).json()
    assert [(t["transition_id"], t["drivers"], t["remedy"]) for t in body["transitions"]] == [
        ("a1-ack", A1_DRIVERS, A1_REMEDY), ("a1-firing", A1_DRIVERS, A1_REMEDY), ("a1-pending", A1_DRIVERS, A1_REMEDY),
    ]  # fmt: skip
    exported = list(csv.DictReader(io.StringIO(get(api, "/v1/regions/32.73/alerts", **{
        "from": "2025-04-02", "to": "2025-04-05", "format": "csv"}).text)))  # fmt: skip
    assert [(row["transition_id"], row["remedy"]) for row in exported] == [
        ("a2-resolved", ""), ("a2-firing", "Publish more data.")]  # fmt: skip


def test_errors_say_what_is_wrong(api: Api) -> None:
    cases: list[tuple[str, dict[str, str | int], int, str, str | None]] = [
        ("/v1/alerts", {"province": "99"}, 404, "unknown_province", "no province has the code '99' (e.g. 32)"),
        ("/v1/alerts", {"region": "99.99"}, 404, "unknown_region",
         "no kabupaten/kota has the code '99.99' (e.g. 32.73)"),
        ("/v1/alerts", {"province": "3"}, 422, "invalid_value", None),
        ("/v1/alerts", {"region": "3273"}, 422, "invalid_value", None),
        ("/v1/alerts", {"limit": 0}, 422, "invalid_value", None),
        ("/v1/alerts", {"limit": 5001}, 422, "invalid_value", None),
        ("/v1/alerts/nope", {}, 404, "unknown_alert", "no alert 'nope' in the history store"),
        ("/v1/alerts/bad id!", {}, 422, "invalid_value", None),
    ]  # fmt: skip
    for path, params, status, code, message in cases:
        r = get(api, path, **params)
        error = r.json()["error"]
        assert (r.status_code, error["code"]) == (status, code), (path, params, r.text)
        assert error["message"] and (message is None or error["message"] == message), (path, params, r.text)
    assert get(api, "/v1/alerts", province="3").json()["error"]["field"] == "province"
    assert get(api, "/v1/alerts/nope").json()["error"]["field"] == "alert_id"


def test_the_command_line_lists_the_open_alerts_with_the_apis_body(api: Api, tmp_path: Path) -> None:
    env = {**os.environ, "PANTAU_DATABASE_URL": api.database, "PANTAU_HOME": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pantau.cli", "history", "alerts", *args], env=env,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    listed = cli("--open", "--province", "32", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == get(api, "/v1/alerts", province="32").json()
    text = cli("--open", "32.73")
    assert text.returncode == 0 and "2 alerts open now in 32.73" in text.stdout and "acknowledged" in text.stdout
    bad = cli("--open", "--province", "99")
    assert bad.returncode == 1 and "no province has the code '99'" in bad.stderr and "Traceback" not in bad.stderr


def test_a_key_when_keys_are_required(database: str, tmp_path: Path) -> None:
    a = start_api(database, tmp_path, HISTORY_API_KEYS="k-one", HISTORY_API_RATE_LIMIT="100/minute")
    try:
        for path in ("/v1/alerts", "/v1/alerts/a1"):
            assert get(a, path).status_code == 401
            r = requests.get(a.url + path, headers={"X-API-Key": "k-one"}, timeout=5)
            assert r.status_code == 200, r.text
    finally:
        a.proc.stop()
