"""The history writer against the real broker and a real PostgreSQL: rows as worked out by hand, replays
that change nothing, a SIGKILL mid-stream, a database outage, bad records to history.dlq.

Each test has topics of its own (a unique prefix) and a schema of its own in the session's database
(``search_path`` in the URL), except the outage test, which runs a PostgreSQL cluster of its own on
another port so that the shared one is never stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kafka.admin import NewTopic

from pantau.postgres_local import LocalPostgres
from schemas.dlq import read_headers
from services.history.db import create_engine
from services.history.domain import plan_hash
from services.runtime.topics import admin_client
from tests.history_support import a_masterplan, a_region_score, an_alert_event
from tests.integration.helpers import (
    ServiceProcess,
    create_topics,
    free_port,
    http_get,
    metric,
    produce,
    read_all,
    wait_for,
)

SNAPSHOT_COLUMNS = ("region_code", "framework_id", "framework_version", "resolution", "at", "day", "index", "level",
                    "coverage", "status", "events_applied", "source_partition", "source_offset")  # fmt: skip
ORDER = {
    "score_snapshots": "region_code, framework_id, framework_version, resolution, at",
    "alert_transitions": "transition_id",
    "plan_versions": "region_code, plan_id, plan_hash",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type, misc]


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


class Db:
    """A schema of the history store: its URL for a writer, and what is in it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)

    def rows(self, table: str, with_written_at: bool = True) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            out = [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {ORDER[table]}"))]
        return out if with_written_at else [{k: v for k, v in r.items() if k != "written_at"} for r in out]

    def offsets(self, group: str) -> dict[str, int]:
        """Per topic (without its prefix), the sum of the stored next offsets: records written."""
        query = sa.text("SELECT topic, sum(next_offset) FROM consumer_offsets WHERE consumer = :g GROUP BY topic")
        try:
            with self.engine.connect() as conn:
                return {t.split("-", 1)[1]: int(n) for t, n in conn.execute(query, {"g": group})}
        except sa.exc.ProgrammingError:  # not migrated yet
            return {}

    def everything(self, with_written_at: bool = False) -> dict[str, list[dict[str, Any]]]:
        return {t: self.rows(t, with_written_at) for t in ORDER}


@pytest.fixture
def schema_of(postgres_url: str) -> Iterator[Callable[[], Db]]:
    admin = create_engine(postgres_url)
    made: list[tuple[str, Db]] = []

    def make() -> Db:
        name = f"h_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        db = Db(with_schema(postgres_url, name))
        made.append((name, db))
        return db

    yield make
    for name, db in made:
        db.engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture
def stack(kafka_bootstrap: str, tmp_path: Path, schema_of: Callable[[], Db]) -> Iterator[Stack]:
    """The writers stop before the schemas they write to are dropped (hence ``schema_of`` here)."""
    s = Stack(kafka_bootstrap, f"h{uuid.uuid4().hex[:8]}-", tmp_path)
    create_topics(kafka_bootstrap, s.prefix)
    yield s
    for svc in s.started:
        if svc.alive():
            svc.stop()


class Stack:
    """The test's topics and the writers it starts (``python -m pantau.cli history run``)."""

    def __init__(self, bootstrap: str, prefix: str, tmp: Path) -> None:
        self.bootstrap, self.prefix, self.tmp = bootstrap, prefix, tmp
        self.started: list[ServiceProcess] = []

    def topic(self, name: str) -> str:
        return self.prefix + name

    def produce(self, name: str, records: list[tuple[bytes | None, bytes | None]]) -> int:
        return produce(self.bootstrap, self.topic(name), records)  # type: ignore[arg-type]

    def writer(self, db_url: str, group: str, **env: str) -> tuple[ServiceProcess, int]:
        port = free_port()
        base = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "HISTORY_TOPIC_PREFIX": self.prefix,
            "HISTORY_GROUP_ID": group, "HISTORY_WEB_PORT": str(port), "PANTAU_DATABASE_URL": db_url,
            "HISTORY_FINE_RETENTION": "P3650D", "PANTAU_LOG_FORMAT": "json", "PANTAU_HOME": str(self.tmp / "home"),
        }  # fmt: skip
        svc = ServiceProcess(["history", "run"], {**base, **env}, self.tmp / f"history-{len(self.started)}.log")
        self.started.append(svc.start())

        def ready() -> bool:
            status, body = http_get(f"http://127.0.0.1:{port}/healthz")
            return status == 200 and json.loads(body)["assigned"] > 0

        wait_for(f"the history writer's partitions (log {svc.log})", ready, timeout=90)
        return svc, port


def caught_up(db: Db, group: str, counts: dict[str, int], timeout: float = 90) -> None:
    wait_for(f"{group} to store {counts}", lambda: db.offsets(group) == counts or None, timeout=timeout)


def _score(region: str, at: datetime, index: float, **over: Any) -> tuple[bytes, bytes]:
    s = a_region_score(region_code=region, province_code=region[:2], evaluated_at=at, index=index, **over)
    return region.encode(), s.model_dump_json().encode()


# ------------------------------------------------------------------ (a) rows as worked out, (b) replays


def test_rows_land_as_worked_out_and_replays_change_none(stack: Stack, schema_of: Callable[[], Db]) -> None:
    db = schema_of()
    scores = [
        # Kota Bandung (WIB): 03:01 and 03:03 share the step of 03:00, the later wins; 03:06 is the step of 03:05;
        # 23:59:59 WIB (16:59:59 UTC) closes the 20th; midnight WIB (17:00 UTC) opens the 21st.
        _score("32.73", utc(2026, 5, 20, 3, 1), 3.0), _score("32.73", utc(2026, 5, 20, 3, 3), 3.1),
        _score("32.73", utc(2026, 5, 20, 3, 6), 3.2), _score("32.73", utc(2026, 5, 20, 16, 59, 59), 3.3),
        _score("32.73", utc(2026, 5, 20, 17, 0), 3.4),
        # Kota Jayapura (WIT, +9): 15:30 UTC on the 20th is 00:30 on the 21st there
        _score("91.71", utc(2026, 5, 20, 15, 30), 2.0),
    ]  # fmt: skip
    pending = an_alert_event(transition_id="t1" * 12, state="pending", at=utc(2026, 5, 20, 3, 6))
    firing = an_alert_event(transition_id="t2" * 12, state="firing", at=utc(2026, 5, 20, 3, 16))
    alerts = [(b"32.73", e.model_dump_json().encode()) for e in (pending, firing, firing)]  # firing twice: one row
    v1 = a_masterplan()
    v2 = a_masterplan(milestones=[{"due": "2029-12-31", "targets": {"index": 3.6}}])
    plans = [(b"32.73", v1.model_dump_json().encode()), (b"32.73", v1.model_dump_json().encode()),
             (b"32.73", v2.model_dump_json().encode()), (b"32.73", None)]  # fmt: skip
    stack.produce("region-scores", scores)
    stack.produce("maturity-alerts", alerts)
    stack.produce("masterplan-milestones", plans)
    counts = {"region-scores": 6, "maturity-alerts": 3, "masterplan-milestones": 4}

    group = f"history-{uuid.uuid4().hex[:6]}"
    svc, port = stack.writer(db.url, group)
    caught_up(db, group, counts)

    got = [tuple(r[c] for c in ("region_code", "resolution", "at", "day", "index")) for r in db.rows("score_snapshots")]
    assert got == [
        ("32.73", "day", utc(2026, 5, 20, 16, 59, 59), date(2026, 5, 20), 3.3),
        ("32.73", "day", utc(2026, 5, 20, 17, 0), date(2026, 5, 21), 3.4),
        ("32.73", "fine", utc(2026, 5, 20, 3, 0), None, 3.1),
        ("32.73", "fine", utc(2026, 5, 20, 3, 5), None, 3.2),
        ("32.73", "fine", utc(2026, 5, 20, 16, 55), None, 3.3),
        ("32.73", "fine", utc(2026, 5, 20, 17, 0), None, 3.4),
        ("91.71", "day", utc(2026, 5, 20, 15, 30), date(2026, 5, 21), 2.0),
        ("91.71", "fine", utc(2026, 5, 20, 15, 30), None, 2.0),
    ]
    first = db.rows("score_snapshots")[0]
    assert (first["framework_id"], first["framework_version"], first["level"], first["coverage"]) == (
        "pp59", "2022.1", 4, 0.9,
    )  # fmt: skip
    assert first["dimensions"][0]["elements"][0]["element_id"] == "public_services"
    transitions = db.rows("alert_transitions")
    assert [(t["transition_id"], t["state"], t["at"]) for t in transitions] == [
        ("t1" * 12, "pending", utc(2026, 5, 20, 3, 6)), ("t2" * 12, "firing", utc(2026, 5, 20, 3, 16)),
    ]  # fmt: skip
    assert transitions[1]["payload"] == json.loads(firing.model_dump_json())
    assert {(p["plan_id"], p["plan_hash"]) for p in db.rows("plan_versions")} == {
        ("bandung-2029", plan_hash(v1)), ("bandung-2029", plan_hash(v2)),
    }  # fmt: skip
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and metric(body.decode(), "pantau_history_database_up") == 1.0
    assert metric(body.decode(), "pantau_history_records_total", topic="masterplan-milestones", outcome="ignored") == 1
    before = db.everything(with_written_at=True)

    # (b) the same writer's stored offsets reset: it replays every topic from the beginning
    assert svc.stop() == 0  # SIGTERM: the batch in flight finished, the group left
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM consumer_offsets WHERE consumer = :g"), {"g": group})
    stack.writer(db.url, group)
    caught_up(db, group, counts)
    # and a second writer in a fresh group replaying the same topics into the same database
    other = f"history-{uuid.uuid4().hex[:6]}"
    stack.writer(db.url, other)
    caught_up(db, other, counts)
    assert db.everything(with_written_at=True) == before  # not a row changed, not even when it was written


# ------------------------------------------------------------------ (c) SIGKILL mid-stream


def _stream(n: int, regions: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    """``n`` scores round the regions, 100 s apart per region: several per 5-minute step, days crossing."""
    base = utc(2026, 5, 20, 12)
    return [_score(regions[i % len(regions)], base + timedelta(seconds=100 * (i // len(regions))), (i % 500) / 100,
                   events_applied=i) for i in range(n)]  # fmt: skip


REGIONS = ("32.73", "32.04", "31.71", "35.78", "51.71", "73.71", "91.71", "12.71")


def test_a_sigkill_mid_stream_and_a_restart_leave_the_rows_of_an_uninterrupted_run(
    stack: Stack, schema_of: Callable[[], Db]
) -> None:
    killed, reference = schema_of(), schema_of()
    records = _stream(4000, REGIONS)
    stack.produce("region-scores", records[:3000])
    small = {"HISTORY_MAX_BATCH": "25"}
    group = f"history-{uuid.uuid4().hex[:6]}"
    svc, _port = stack.writer(killed.url, group, **small)
    wait_for("some batches written", lambda: killed.offsets(group).get("region-scores", 0) > 500, timeout=90)
    svc.kill()
    partial = killed.offsets(group).get("region-scores", 0)
    assert 0 < partial < 3000, partial
    stack.produce("region-scores", records[3000:])  # more arrive while it is down
    # restarted, and a second writer joins the group while it catches up: the partitions are shared
    # and move between them mid-stream
    stack.writer(killed.url, group, **small)
    stack.writer(killed.url, group, **small)
    caught_up(killed, group, {"region-scores": 4000})

    ref_group = f"history-{uuid.uuid4().hex[:6]}"
    stack.writer(reference.url, ref_group)
    caught_up(reference, ref_group, {"region-scores": 4000})
    got, want = killed.rows("score_snapshots", False), reference.rows("score_snapshots", False)
    assert len(got) == len(want) > 1000
    assert got == want


# ------------------------------------------------------------------ (d) the database stopped mid-run


@pytest.fixture
def own_cluster() -> Iterator[LocalPostgres]:
    """A PostgreSQL cluster of this test's own, on another port, in a folder the postgres user can enter."""
    home = Path(tempfile.mkdtemp(prefix="pantau-history-outage-"))
    home.chmod(0o755)
    lp = LocalPostgres(home=home / "postgres", port=free_port())
    lp.up()
    try:
        yield lp
    finally:
        lp.down()
        shutil.rmtree(home, ignore_errors=True)


def test_a_database_outage_pauses_the_writer_and_it_resumes_with_no_gap_and_no_duplicate(
    stack: Stack, own_cluster: LocalPostgres
) -> None:
    db = Db(own_cluster.url())
    # One score per region per 5-minute step: every record is a fine snapshot of its own.
    base = utc(2026, 5, 20, 0)
    records = [_score(r, base + timedelta(minutes=5 * i), (i % 50) / 10) for i in range(60) for r in REGIONS[:4]]
    stack.produce("region-scores", records[:120])
    group = f"history-{uuid.uuid4().hex[:6]}"
    svc, port = stack.writer(db.url, group, HISTORY_RETRY_INITIAL="0.2", HISTORY_RETRY_MAX="1")
    caught_up(db, group, {"region-scores": 120})
    db.engine.dispose()

    own_cluster.down()
    stack.produce("region-scores", records[120:])

    def paused() -> bool:
        text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
        lag = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("pantau_history_consumer_lag_messages{"))  # fmt: skip
        return metric(text, "pantau_history_database_up") == 0.0 and lag == 120

    wait_for("the writer paused with the new records as lag", paused, timeout=60)
    assert svc.alive()

    def retries() -> float:
        text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
        return metric(text, "pantau_history_batches_total", outcome="database_unavailable") or 0.0

    wait_for("a few retries", lambda: retries() >= 3, timeout=30)

    own_cluster.up()
    caught_up(db, group, {"region-scores": 240}, timeout=60)
    fine = [r for r in db.rows("score_snapshots") if r["resolution"] == "fine"]
    assert len(fine) == 240  # no gap, no duplicate: one row per record
    assert sorted((r["source_partition"], r["source_offset"]) for r in fine) == sorted(
        {(r["source_partition"], r["source_offset"]) for r in fine}
    )
    assert {(r["region_code"], r["at"]) for r in fine} == {
        (r, base + timedelta(minutes=5 * i)) for i in range(60) for r in REGIONS[:4]
    }
    text = http_get(f"http://127.0.0.1:{port}/metrics")[1].decode()
    assert metric(text, "pantau_history_database_up") == 1.0
    log = svc.log.read_text()
    assert log.count('"history.database_unavailable"') == 1 and log.count('"history.database_back"') == 1
    assert '"level": "error"' not in log
    db.engine.dispose()


# ------------------------------------------------------------------ (e) bad records


def test_bad_records_go_to_history_dlq_with_their_reasons(stack: Stack, schema_of: Callable[[], Db]) -> None:
    db = schema_of()
    no_version = json.loads(a_region_score().model_dump_json()) | {"framework": "pp59"}
    stack.produce("region-scores", [(b"32.73", b"not json"), (b"32.73", None),
                                    (b"32.73", json.dumps(no_version).encode()),
                                    _score("32.73", utc(2026, 5, 20, 3, 1), 3.0)])  # fmt: skip
    # PostgreSQL cannot store a NUL character, which the contract lets through: a processing error
    nul = an_alert_event(summary="nul \x00 here").model_dump_json().encode()
    stack.produce("maturity-alerts", [(b"32.73", None), (b"32.73", b"{}"), (b"32.73", nul)])
    stack.produce("masterplan-milestones", [(b"32.73", None), (b"32.73", b'{"plan_id": 1}')])
    group = f"history-{uuid.uuid4().hex[:6]}"
    stack.writer(db.url, group)
    caught_up(db, group, {"region-scores": 4, "maturity-alerts": 3, "masterplan-milestones": 2})

    letters = wait_for("seven dead letters", lambda: (r := read_all(stack.bootstrap, stack.topic("history.dlq")))
                       and len(r) >= 7 and r, timeout=30)  # fmt: skip
    got = sorted((h["pantau.dlq.source.topic"].removeprefix(stack.prefix), int(h["pantau.dlq.source.offset"]),
                  h["pantau.dlq.reason"], h["pantau.dlq.service"])
                 for h in (read_headers(r.headers) for r in letters))  # fmt: skip
    assert got == [
        ("masterplan-milestones", 1, "schema_invalid", "history"),
        ("maturity-alerts", 0, "empty_value", "history"),
        ("maturity-alerts", 1, "schema_invalid", "history"),
        ("maturity-alerts", 2, "internal_error", "history"),
        ("region-scores", 0, "schema_invalid", "history"),
        ("region-scores", 1, "empty_value", "history"),
        ("region-scores", 2, "schema_invalid", "history"),
    ]
    by_offset = {(read_headers(r.headers)["pantau.dlq.source.topic"], r.offset): r for r in letters}
    assert any(r.value == b"not json" for r in by_offset.values())  # as received
    details = [read_headers(r.headers)["pantau.dlq.detail"] for r in letters]
    assert "framework 'pp59' is not 'id@version'" in details
    assert [r["index"] for r in db.rows("score_snapshots")] == [3.0, 3.0]  # the good record behind them landed
    assert db.rows("plan_versions") == [] and db.rows("alert_transitions") == []


# ------------------------------------------------------------------ backfill


def consumers(db: Db) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT DISTINCT consumer FROM consumer_offsets")).scalars())


def test_a_backfill_rebuilds_the_history_and_adds_a_rescored_version_beside_it(
    stack: Stack, schema_of: Callable[[], Db]
) -> None:
    """``pantau history backfill`` as a user runs it: from the followed topics into an empty schema it writes
    exactly the live writer's rows; with a rescore output topic, that version's scores land beside the
    live ones and nothing of the live rows changes; it stops by itself and leaves no stored offsets."""
    live = [_score("32.73", utc(2026, 5, 20, 3, 1), 3.0), _score("32.73", utc(2026, 5, 21, 3, 1), 3.1),
            _score("91.71", utc(2026, 5, 20, 15, 30), 2.0)]  # fmt: skip
    stack.produce("region-scores", live)
    stack.produce("maturity-alerts", [(b"32.73", an_alert_event().model_dump_json().encode())])
    stack.produce("masterplan-milestones", [(b"32.73", a_masterplan().model_dump_json().encode())])
    rescored_topic = "region-scores.pp59-2027.1"  # what `pantau rescore` names the output of pp59 2027.1
    admin = admin_client(stack.bootstrap)
    try:
        admin.create_topics([NewTopic(stack.topic(rescored_topic), 3, 1)])
    finally:
        admin.close()
    rescored = [_score("32.73", utc(2026, 5, 22, 1, 0), 2.7, framework="pp59@2027.1"),
                _score("91.71", utc(2026, 5, 22, 1, 0), 1.9, framework="pp59@2027.1")]  # fmt: skip
    stack.produce(rescored_topic, rescored)

    db = schema_of()
    group = f"history-{uuid.uuid4().hex[:6]}"
    svc, _port = stack.writer(db.url, group)
    caught_up(db, group, {"region-scores": 3, "maturity-alerts": 1, "masterplan-milestones": 1})
    svc.stop()
    written_live = db.everything()

    def backfill(url: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
            "HISTORY_TOPIC_PREFIX": stack.prefix,
            "PANTAU_DATABASE_URL": url,
            "HISTORY_FINE_RETENTION": "P3650D",
            "PANTAU_HOME": str(stack.tmp / "home"),
        }
        return subprocess.run([sys.executable, "-m", "pantau.cli", "history", "backfill", *args], env=env,
                              capture_output=True, text=True, timeout=180, check=False)  # fmt: skip

    rebuilt = schema_of()
    done = backfill(rebuilt.url)
    assert done.returncode == 0, done.stderr
    assert "5 records read" in done.stdout, done.stdout
    assert rebuilt.everything() == written_live  # the same rows, row by row
    assert consumers(rebuilt) == []  # its own offsets deleted when done

    beside = backfill(db.url, "--topic", rescored_topic, "--only")
    assert beside.returncode == 0, beside.stderr
    after = db.everything()
    assert [r for r in after["score_snapshots"] if r["framework_version"] == "2022.1"] == written_live[
        "score_snapshots"
    ]
    new = [(r["region_code"], r["resolution"], r["day"], r["index"])
           for r in after["score_snapshots"] if r["framework_version"] == "2027.1"]  # fmt: skip
    assert sorted(new) == [("32.73", "day", date(2026, 5, 22), 2.7), ("32.73", "fine", None, 2.7),
                           ("91.71", "day", date(2026, 5, 22), 1.9), ("91.71", "fine", None, 1.9)]  # fmt: skip
    assert consumers(db) == [group]  # the live writer's offsets, and no other
    missing = backfill(db.url, "--topic", "region-scores.nothing-here", "--only")
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
