"""The history store on a real PostgreSQL: the local cluster's life (up, status, down, up again, a taken
port), the command line, and the migrations to head on the session's server (PANTAU_DATABASE_URL, else
the local cluster)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pantau.postgres_local import LocalPostgres, PostgresSetupError
from services.history.db import create_engine, current_revision, head_revision, migrate
from tests.integration.helpers import free_port

TABLES = {
    "score_snapshots": ["region_code", "framework_id", "framework_version", "resolution", "at"],
    "alert_transitions": ["transition_id"],
    "plan_versions": ["region_code", "plan_id", "plan_hash"],
    "consumer_offsets": ["consumer", "topic", "partition"],
}


@pytest.fixture
def schema(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on a schema of its own (search_path), dropped afterwards: every test migrates from nothing."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    engine = create_engine(postgres_url, connect_args={"options": f"-c search_path={name}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def open_home() -> Iterator[Path]:
    """A PANTAU_HOME the postgres system user can enter (pytest's tmp_path lies under a 0700 folder)."""
    home = Path(tempfile.mkdtemp(prefix="pantau-pg-test-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _listener(port: int) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen()
    return s


# ------------------------------------------------------------------ the schema


def test_migrations_to_head_create_the_tables_on_their_natural_keys(schema: sa.Engine) -> None:
    assert current_revision(schema) is None
    assert migrate(schema) == head_revision()
    assert migrate(schema) == head_revision()  # at head already: nothing to do
    assert current_revision(schema) == head_revision()
    inspector = sa.inspect(schema)
    assert set(TABLES) | {"alembic_version"} == set(inspector.get_table_names())
    for table, key in TABLES.items():
        assert inspector.get_pk_constraint(table)["constrained_columns"] == key, table
    indexes = {i["name"]: i for i in inspector.get_indexes("score_snapshots")}
    assert indexes["ix_score_snapshots_region_at"]["column_names"] == ["region_code", "resolution", "at"]
    assert indexes["ix_score_snapshots_day"]["column_names"] == ["day", "region_code"]
    assert indexes["uq_score_snapshots_region_day"]["unique"]
    columns = {c["name"]: c for c in inspector.get_columns("score_snapshots")}
    assert str(columns["dimensions"]["type"]) == "JSONB"
    assert str(columns["at"]["type"]) == "TIMESTAMP" and columns["at"]["type"].timezone


def _snapshot(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "region_code": "32.73", "province_code": "32", "framework_id": "pp59", "framework_version": "2022.1",
        "resolution": "fine", "at": dt.datetime(2026, 5, 20, 3, 0, tzinfo=dt.UTC), "day": None, "index": 3.2,
        "level": 3, "level_name": "Berkembang", "coverage": 0.9, "status": "ok",
        "dimensions": json.dumps([{"dimension_id": "governance", "score": 3.1, "elements": []}]),
        "source_partition": 4, "source_offset": 1041,
    }  # fmt: skip
    return row | over


INSERT = sa.text(
    "INSERT INTO score_snapshots (region_code, province_code, framework_id, framework_version, resolution, at, "
    "day, index, level, level_name, coverage, status, dimensions, source_partition, source_offset) VALUES "
    "(:region_code, :province_code, :framework_id, :framework_version, :resolution, :at, :day, :index, :level, "
    ":level_name, :coverage, :status, CAST(:dimensions AS jsonb), :source_partition, :source_offset) "
    "ON CONFLICT DO NOTHING"
)


def test_rows_land_once_on_their_natural_key_with_the_offsets_in_the_same_transaction(schema: sa.Engine) -> None:
    migrate(schema)
    offsets = sa.text(
        "INSERT INTO consumer_offsets (consumer, topic, partition, next_offset) VALUES ('history', 'region-scores', "
        "4, :next) ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset"
    )
    for _replay in range(2):  # a replay from an older offset writes nothing new
        with schema.begin() as conn:
            conn.execute(INSERT, _snapshot())
            conn.execute(offsets, {"next": 1042})
    with pytest.raises(RuntimeError), schema.begin() as conn:  # a failed batch leaves neither rows nor offsets
        conn.execute(INSERT, _snapshot(at=dt.datetime(2026, 5, 20, 3, 1, tzinfo=dt.UTC), source_offset=1042))
        conn.execute(offsets, {"next": 1043})
        raise RuntimeError("the writer died mid-batch")
    with schema.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM score_snapshots")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT next_offset FROM consumer_offsets")).scalar_one() == 1042
        dims = conn.execute(sa.text("SELECT dimensions -> 0 ->> 'dimension_id' FROM score_snapshots")).scalar_one()
        assert dims == "governance"


def test_one_closing_snapshot_per_region_and_day_and_no_other_resolution(schema: sa.Engine) -> None:
    migrate(schema)
    day = dt.date(2026, 5, 20)
    with schema.begin() as conn:
        conn.execute(INSERT, _snapshot(resolution="day", day=day, at=dt.datetime(2026, 5, 20, 16, 59, tzinfo=dt.UTC)))
    with pytest.raises(sa.exc.IntegrityError, match="uq_score_snapshots_region_day"), schema.begin() as conn:
        later = sa.text(
            "INSERT INTO score_snapshots (region_code, province_code, framework_id, framework_version, resolution, "
            "at, day, coverage, status, dimensions) VALUES ('32.73', '32', 'pp59', '2022.1', 'day', now(), :day, "
            "0.5, 'ok', '[]')"
        )
        conn.execute(later, {"day": day})
    with pytest.raises(sa.exc.IntegrityError, match="ck_score_snapshots_resolution"), schema.begin() as conn:
        conn.execute(INSERT, _snapshot(resolution="hourly"))
    with pytest.raises(sa.exc.IntegrityError, match="ck_score_snapshots_day"), schema.begin() as conn:
        conn.execute(INSERT, _snapshot(resolution="day"))  # a closing snapshot names its day


def test_components_starting_together_migrate_once(schema: sa.Engine) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(migrate(schema))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert results == [head_revision()] * 4


# ------------------------------------------------------------------ the local cluster


def test_the_local_cluster_is_idempotent_keeps_its_data_and_names_a_taken_port(open_home: Path) -> None:
    lp = LocalPostgres(home=open_home / "postgres", port=free_port())
    try:
        pid, started = lp.up()
        assert started
        assert lp.up() == (pid, False)
        st = lp.status()
        assert (st["running"], st["answers"], st["pid"], st["port"]) == (True, True, pid, lp.port)
        assert os.geteuid() != 0 or st["run_as"] == "postgres"
        assert (lp.password_file.stat().st_mode & 0o777) == 0o600
        migrate(lp.url())
        engine = create_engine(lp.url())
        with engine.begin() as conn:
            conn.execute(INSERT, _snapshot())
        engine.dispose()

        # Another cluster, on a port a plain listener holds.
        taken = free_port()
        with _listener(taken), pytest.raises(PostgresSetupError) as err:
            LocalPostgres(home=open_home / "other", port=taken).up(timeout=10)
        assert f"port 127.0.0.1:{taken} is taken by another process" in str(err.value)
        assert not (open_home / "other" / "data").exists()

        assert lp.down() is True
        assert lp.pid() is None
        assert lp.status()["running"] is False
        assert lp.down() is False

        pid2, started = lp.up()
        assert started and pid2 != pid
        engine = create_engine(lp.url())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM score_snapshots")).scalar_one() == 1
        engine.dispose()
        assert current_revision(lp.url()) == head_revision()
    finally:
        lp.down()


def test_two_ups_at_once_start_one_server(open_home: Path) -> None:
    lp = LocalPostgres(home=open_home / "postgres", port=free_port())
    outcomes: list[tuple[int, bool]] = []
    try:
        threads = [threading.Thread(target=lambda: outcomes.append(lp.up())) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(started for _pid, started in outcomes) == [False, False, True]
        assert len({pid for pid, _started in outcomes}) == 1
    finally:
        lp.down()


def test_a_home_the_postgres_user_cannot_enter_still_runs(tmp_path: Path) -> None:
    """As root, pantau runs the server as 'postgres', which cannot enter pytest's 0700 temp folder: the
    cluster then lives in that user's home, linked from the state folder. As anyone else, in place."""
    lp = LocalPostgres(home=tmp_path / "postgres", port=free_port())
    try:
        _pid, started = lp.up()
        assert started and lp.answers()
        if os.geteuid() == 0:
            assert lp.link.is_symlink() and lp.cluster_dir.parent == Path("/var/lib/postgresql")
        else:
            assert lp.cluster_dir == lp.home
        assert lp.data_dir == lp.cluster_dir / "data"
        assert lp.down()
        assert lp.up()[1]  # found again through the link
    finally:
        lp.down()
        if lp.link.is_symlink():
            shutil.rmtree(lp.cluster_dir, ignore_errors=True)


def test_the_command_line_runs_the_local_cluster(open_home: Path) -> None:
    env = {**os.environ, "PANTAU_HOME": str(open_home), "HISTORY_LOCAL_PORT": str(free_port()),
           "PANTAU_LOG_FORMAT": "json"}  # fmt: skip
    env.pop("PANTAU_DATABASE_URL", None)

    def pantau(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pantau.cli", "postgres", *args], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip

    try:
        first = pantau("up")
        assert first.returncode == 0, first.stderr
        assert "PostgreSQL" in first.stdout and "started" in first.stdout
        again = pantau("up")
        assert again.returncode == 0 and "already running" in again.stdout, again.stderr
        status = pantau("status", "--json")
        assert status.returncode == 0, status.stderr
        st = json.loads(status.stdout)
        assert st["running"] and st["answers"] and st["revision"] is None
        assert st["url"] == f"postgresql+psycopg://pantau:***@127.0.0.1:{env['HISTORY_LOCAL_PORT']}/pantau"
        assert (open_home / "postgres" / "password").read_text().strip() not in status.stdout + status.stderr
        down = pantau("down")
        assert down.returncode == 0 and "PostgreSQL stopped" in down.stdout
        assert pantau("status").returncode == 3
    finally:
        pantau("down")
