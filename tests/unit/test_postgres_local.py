"""The local PostgreSQL manager's pure parts and the history settings: binary discovery, the files it
writes, its error messages, the URLs, and the migrations as SQL (no server here)."""

from __future__ import annotations

import io
import os
import pwd
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from pantau.cli import app
from pantau.postgres_local import (
    LocalPostgres,
    PostgresSetupError,
    blocking_folder,
    find_binaries,
    read_postmaster_pid,
    render_config,
    render_hba,
)
from services.history.config import DatabaseNotReady, HistorySettings, masked, normalise_url
from services.history.db import MIGRATIONS_DIR, alembic_config, head_revision


def _tool(bindir: Path, name: str, script: str = "exit 0\n") -> None:
    bindir.mkdir(parents=True, exist_ok=True)
    path = bindir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _server(bindir: Path, version_line: str = "postgres (PostgreSQL) 15.8") -> None:
    for name in ("initdb", "pg_ctl"):
        _tool(bindir, name)
    _tool(bindir, "postgres", f"echo '{version_line}'\n")


# ------------------------------------------------------------------ binaries


def test_the_highest_debian_version_is_chosen(tmp_path: Path) -> None:
    for version in ("9.6", "10", "15", "16"):
        _server(tmp_path / version / "bin")
    _tool(tmp_path / "17" / "bin", "psql")  # a client-only version: no server programs
    found = find_binaries(tmp_path, path="")
    assert found.version == "16"
    assert found["pg_ctl"] == f"{tmp_path}/16/bin/pg_ctl"


def test_the_version_a_cluster_was_made_with_is_preferred(tmp_path: Path) -> None:
    for version in ("15", "16"):
        _server(tmp_path / version / "bin")
    assert find_binaries(tmp_path, path="", prefer="15").bindir == tmp_path / "15" / "bin"


def test_a_cluster_of_a_version_no_longer_installed_is_named(tmp_path: Path) -> None:
    _server(tmp_path / "16" / "bin")
    with pytest.raises(PostgresSetupError) as err:
        find_binaries(tmp_path, path="", prefer="15")
    assert str(err.value) == (
        f"the local cluster was created by PostgreSQL 15, but only 16 is installed in {tmp_path}: install "
        "postgresql-15 (apt-get install postgresql-15), or move the cluster's folder away to start afresh"
    )


def test_binaries_on_path_are_accepted(tmp_path: Path) -> None:
    bindir = tmp_path / "opt" / "pg" / "bin"
    _server(bindir, "postgres (PostgreSQL) 14.3")
    found = find_binaries(tmp_path / "no-debian-lib", path=str(bindir))
    assert (found.bindir, found.version) == (bindir, "14")


def test_missing_server_names_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(PostgresSetupError) as err:
        find_binaries(tmp_path / "none", path=str(tmp_path))
    assert str(err.value) == (
        "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed: not in "
        f"{tmp_path}/none/<version>/bin nor on PATH; install Debian's package: apt-get install postgresql "
        "(or run 'make system-deps'), or point Pantau at an existing server with PANTAU_DATABASE_URL"
    )


# ------------------------------------------------------------------ what it writes


def test_config_listens_on_loopback_only_with_the_socket_in_the_state_folder() -> None:
    assert render_config("127.0.0.1", 5433, Path("/state/postgres/run")) == (
        "# Written by pantau (pantau/postgres_local.py) at every 'pantau postgres up'; edits are lost.\n"
        "listen_addresses = '127.0.0.1'\n"
        "port = 5433\n"
        "unix_socket_directories = '/state/postgres/run'\n"
        "unix_socket_permissions = 0700\n"
        "password_encryption = 'scram-sha-256'\n"
        "max_connections = 100\n"
        "logging_collector = off\n"
        "log_timezone = 'UTC'\n"
        "timezone = 'UTC'\n"
    )


def test_authentication_is_a_password_on_the_socket_and_loopback_only() -> None:
    rules = [line.split() for line in render_hba().splitlines() if line and not line.startswith("#")]
    assert rules == [
        ["local", "all", "all", "scram-sha-256"],
        ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
    ]


def test_postmaster_pid_is_read() -> None:
    text = "4242\n/state/postgres/data\n1767225600\n5433\n/state/postgres/run\n127.0.0.1\n  5433001   32768\nready   \n"
    assert read_postmaster_pid(text) == {
        "pid": 4242, "data_dir": "/state/postgres/data", "port": 5433, "socket_dir": "/state/postgres/run",
    }  # fmt: skip
    assert read_postmaster_pid("garbage") == {}


def test_a_stale_postmaster_pid_is_not_a_running_cluster(tmp_path: Path) -> None:
    lp = LocalPostgres(home=tmp_path)
    lp.data_dir.mkdir(parents=True)
    # A live process (this one), but not a server of this data folder.
    (lp.data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{lp.data_dir}\n0\n5433\n/x\n")
    assert lp.pid() is None
    assert lp.down() is False


# ------------------------------------------------------------------ errors and root


def test_port_taken_by_another_process_is_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PostgresSetupError) as err:
            LocalPostgres(home=tmp_path, port=port).up(timeout=5)
    assert str(err.value) == (
        f"port 127.0.0.1:{port} is taken by another process (not the PostgreSQL cluster started by pantau). "
        "Stop it, choose another port with HISTORY_LOCAL_PORT, or point Pantau at an existing server with "
        "PANTAU_DATABASE_URL."
    )


@pytest.fixture
def as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)


def test_as_root_the_server_runs_as_the_postgres_user(as_root: None, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:  # fmt: skip
    postgres = pwd.struct_passwd(("postgres", "x", 101, 104, "", "/var/lib/postgresql", "/bin/sh"))
    monkeypatch.setattr(pwd, "getpwnam", lambda name: postgres if name == "postgres" else None)
    _tool(tmp_path / "bin", "runuser")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert LocalPostgres(home=tmp_path)._prefix() == [str(tmp_path / "bin" / "runuser"), "-u", "postgres", "--"]


def test_as_root_without_a_postgres_user_the_package_is_named(as_root: None, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:  # fmt: skip
    def no_user(name: str) -> pwd.struct_passwd:
        raise KeyError(name)

    monkeypatch.setattr(pwd, "getpwnam", no_user)
    with pytest.raises(PostgresSetupError) as err:
        LocalPostgres(home=tmp_path)._prefix()
    assert str(err.value) == (
        "PostgreSQL refuses to run as root, and there is no 'postgres' system user to run it as (Debian's package "
        "creates it): apt-get install postgresql, or point Pantau at an existing server with PANTAU_DATABASE_URL"
    )


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder under /tmp (which everyone may enter), unlike pytest's tmp_path (under a 0700 folder)."""
    path = Path(tempfile.mkdtemp(prefix="pantau-unit-"))
    yield path
    shutil.rmtree(path)


def test_the_folder_closed_to_the_server_user_is_found(open_tmp: Path) -> None:
    state = open_tmp / "home" / "postgres"
    state.mkdir(parents=True)
    other = 54321  # owns nothing here
    open_tmp.chmod(0o700)
    assert blocking_folder(state, other, []) == open_tmp
    open_tmp.chmod(0o711)  # enter, not list: enough
    (open_tmp / "home").chmod(0o750)
    assert blocking_folder(state, other, []) == open_tmp / "home"
    assert blocking_folder(state, other, [(open_tmp / "home").stat().st_gid]) is None  # by its group
    assert blocking_folder(state, (open_tmp / "home").stat().st_uid, []) is None  # its owner
    assert blocking_folder(open_tmp / "home" / "missing" / "deeper", 0, []) is None


# ------------------------------------------------------------------ settings and URLs


def test_the_embedded_url_comes_from_the_local_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANTAU_DATABASE_URL", raising=False)
    settings = HistorySettings(PANTAU_HOME=tmp_path)
    assert not settings.external_database
    with pytest.raises(DatabaseNotReady, match="run 'pantau postgres up'"):
        settings.url()
    (tmp_path / "postgres").mkdir()
    (tmp_path / "postgres" / "password").write_text("s3cr/t+x\n")
    assert settings.url() == "postgresql+psycopg://pantau:s3cr%2Ft%2Bx@127.0.0.1:5433/pantau"
    assert settings.safe_url == "postgresql+psycopg://pantau:***@127.0.0.1:5433/pantau"
    assert LocalPostgres.from_settings(settings) == LocalPostgres(home=tmp_path / "postgres", port=5433)
    assert LocalPostgres.from_settings(settings).password_file == settings.password_file


def test_pantau_database_url_names_an_existing_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_DATABASE_URL", "postgres://writer:pa@ss@db.example:5432/history?sslmode=require")
    settings = HistorySettings()
    assert settings.external_database
    assert settings.url() == "postgresql+psycopg://writer:pa@ss@db.example:5432/history?sslmode=require"
    assert settings.safe_url == "postgresql+psycopg://writer:***@db.example:5432/history?sslmode=require"
    assert "pa@ss" not in repr(settings)


def test_an_empty_database_url_means_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_DATABASE_URL", " ")
    assert not HistorySettings().external_database


def test_only_the_pantau_names_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # DATABASE_URL and HOME are other programs' variables.
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@else/db")
    monkeypatch.delenv("PANTAU_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "not-pantau"))
    monkeypatch.setenv("PANTAU_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HISTORY_LOCAL_PORT", "5544")
    settings = HistorySettings()
    assert (settings.database_url, settings.home, settings.local_port) == (None, tmp_path / "state", 5544)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h/d", "postgresql+psycopg://u:p@h/d"),
        ("postgres://u@h:6543/d", "postgresql+psycopg://u@h:6543/d"),
        ("postgresql+psycopg://h/d", "postgresql+psycopg://h/d"),
    ],
)
def test_urls_are_read_as_psycopg_3(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/d", "sqlite:///x.db", "db.example:5432"])
def test_other_databases_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_DATABASE_URL", url)
    with pytest.raises(ValueError, match="PANTAU_DATABASE_URL must be a PostgreSQL URL"):
        HistorySettings()


def test_masked_hides_only_the_password() -> None:
    assert masked("postgresql+psycopg://u:secret@h:1/d") == "postgresql+psycopg://u:***@h:1/d"
    assert masked("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert masked("postgresql+psycopg:///d") == "postgresql+psycopg:///d"


# ------------------------------------------------------------------ migrations


def test_the_migrations_form_one_line_numbered_like_their_files() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert [r.revision for r in revisions][:1] == ["0001"]
    assert head_revision() == revisions[-1].revision
    for rev in revisions:
        assert Path(rev.path).name.startswith(rev.revision + "_"), rev.path
    assert len(script.get_heads()) == 1
    assert MIGRATIONS_DIR.is_relative_to(Path(__file__).resolve().parents[2] / "services")


def test_the_first_migration_as_sql_creates_the_tables_on_their_natural_keys() -> None:
    out = io.StringIO()
    cfg = alembic_config()
    cfg.output_buffer = out
    cfg.attributes["url"] = "postgresql+psycopg://pantau@127.0.0.1/pantau"
    command.upgrade(cfg, "0001", sql=True)
    ddl = " ".join(out.getvalue().split())
    for table, key in [
        ("score_snapshots", "region_code, framework_id, framework_version, resolution, at"),
        ("alert_transitions", "transition_id"),
        ("plan_versions", "region_code, plan_id, plan_hash"),
        ("consumer_offsets", "consumer, topic, partition"),
    ]:
        assert f"CREATE TABLE {table} (" in ddl
        assert f"CONSTRAINT pk_{table} PRIMARY KEY ({key})" in ddl
    assert "CONSTRAINT ck_score_snapshots_resolution CHECK (resolution IN ('fine', 'day'))" in ddl
    assert ("CREATE UNIQUE INDEX uq_score_snapshots_region_day ON score_snapshots "
            "(region_code, framework_id, framework_version, day) WHERE resolution = 'day'") in ddl  # fmt: skip
    assert "dimensions JSONB NOT NULL" in ddl
    assert "UPDATE alembic_version SET version_num='0001'" in ddl or "INSERT INTO alembic_version" in ddl


# ------------------------------------------------------------------ command line


def test_the_command_line_has_up_down_and_status() -> None:
    result = CliRunner().invoke(app, ["postgres", "--help"])
    assert result.exit_code == 0
    assert all(cmd in result.output for cmd in ("up", "down", "status"))


def test_status_of_an_external_server_that_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PANTAU_DATABASE_URL", f"postgresql://u:hidden@127.0.0.1:{port}/d")
    result = CliRunner().invoke(app, ["postgres", "status", "--json"])
    assert result.exit_code == 3, result.output
    assert '"managed": false' in result.output and '"answers": false' in result.output
    assert "hidden" not in result.output
    down = CliRunner().invoke(app, ["postgres", "down"])
    assert down.exit_code == 0 and "pantau does not stop it" in down.output


def test_a_bad_database_url_is_an_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_DATABASE_URL", "mysql://u@h/d")
    result = CliRunner().invoke(app, ["postgres", "up"])
    assert result.exit_code == 1
    assert "error: PANTAU_DATABASE_URL must be a PostgreSQL URL" in result.output
