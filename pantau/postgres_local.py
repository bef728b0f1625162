"""The embedded history store: a local PostgreSQL cluster from Debian's ``postgresql`` package.

``up`` finds the server binaries (``/usr/lib/postgresql/<version>/bin``, the highest version, else PATH),
creates the cluster on first use (``initdb`` under ``$PANTAU_HOME/postgres``, superuser ``pantau`` with a
generated password kept in ``password``, mode 0600), starts it with ``pg_ctl`` on 127.0.0.1:5433 only
(the unix socket in the state folder), creates the database ``pantau`` and returns when it answers. It is
idempotent; the data stay across ``down`` and ``up``. ``down`` is a fast shutdown (``pg_ctl stop -m fast``:
clients are disconnected, committed work is kept).

PostgreSQL refuses to run as root. Run as root (the CI machine), pantau runs ``initdb``, ``pg_ctl`` and
the server as Debian's ``postgres`` system user (``runuser -u postgres --``, as Debian's own scripts do),
with the cluster folder owned by that user. That user must be able to reach the folder: when a folder
above it is closed to it (a checkout under ``/root``), the cluster lives in the postgres user's home
instead (``/var/lib/postgresql/pantau-<key>``, where Debian keeps its clusters), and
``$PANTAU_HOME/postgres/cluster`` links to it.
"""

from __future__ import annotations

import fcntl
import grp
import hashlib
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pantau.config import EMBEDDED_HOST
from pantau.kafka_local import port_in_use, tail
from services.history.config import (
    EMBEDDED_DATABASE,
    EMBEDDED_POSTGRES_PORT,
    EMBEDDED_USER,
    HistorySettings,
    embedded_url,
    local_state_dir,
    masked,
)
from services.runtime import logs

if TYPE_CHECKING:
    import psycopg

log = logs.get(__name__)

DEBIAN_LIB = Path("/usr/lib/postgresql")
BINARIES = ("initdb", "pg_ctl", "postgres")
SYSTEM_USER = "postgres"
INSTALL_HINT = "install Debian's package: apt-get install postgresql (or run 'make system-deps')"
EXTERNAL_HINT = "or point Pantau at an existing server with PANTAU_DATABASE_URL"
CONFIG_NAME = "pantau.conf"


class PostgresSetupError(RuntimeError):
    """Something a user must fix before the local cluster can run; the message says what."""


# ------------------------------------------------------------------ pure parts


@dataclass(frozen=True)
class Binaries:
    """The server programs of one PostgreSQL version."""

    bindir: Path
    version: str

    def __getitem__(self, name: str) -> str:
        return str(self.bindir / name)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name))


def find_binaries(lib_root: Path = DEBIAN_LIB, path: str | None = None, prefer: str | None = None) -> Binaries:
    """Debian's PostgreSQL server binaries: ``<lib_root>/<version>/bin``, highest version (``prefer``: that
    version when installed, the one a cluster was created with), else ``initdb`` on ``path`` ($PATH)."""
    versions = sorted(
        (d for d in (lib_root.iterdir() if lib_root.is_dir() else ()) if _has_binaries(d / "bin")),
        key=lambda d: _version_key(d.name),
    )
    if prefer is not None:
        if (lib_root / prefer) in versions:
            return Binaries(lib_root / prefer / "bin", prefer)
        if versions:
            raise PostgresSetupError(
                f"the local cluster was created by PostgreSQL {prefer}, but only "
                f"{', '.join(d.name for d in versions)} is installed in {lib_root}: install postgresql-{prefer} "
                "(apt-get install postgresql-" + prefer + "), or move the cluster's folder away to start afresh"
            )
    if versions:
        return Binaries(versions[-1] / "bin", versions[-1].name)
    found = shutil.which("initdb", path=path)
    if found is not None:
        bindir = Path(found).resolve().parent
        if _has_binaries(bindir):
            return Binaries(bindir, _version_of(bindir))
    raise PostgresSetupError(
        f"PostgreSQL's server programs ({', '.join(BINARIES)}) are not installed: not in {lib_root}/<version>/bin "
        f"nor on PATH; {INSTALL_HINT}, {EXTERNAL_HINT}"
    )


def _has_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / b, os.X_OK) for b in BINARIES)


def _version_of(bindir: Path) -> str:
    """The major version of the binaries in ``bindir`` (``postgres (PostgreSQL) 15.8`` -> ``15``)."""
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False)
    m = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return m.group(1) if m else "unknown"


def render_config(host: str, port: int, socket_dir: Path) -> str:
    """The settings pantau keeps in the cluster's ``pantau.conf`` (``include``d by postgresql.conf)."""
    return (
        "# Written by pantau (pantau/postgres_local.py) at every 'pantau postgres up'; edits are lost.\n"
        f"listen_addresses = '{host}'\n"
        f"port = {port}\n"
        f"unix_socket_directories = '{socket_dir}'\n"
        "unix_socket_permissions = 0700\n"
        "password_encryption = 'scram-sha-256'\n"
        "max_connections = 100\n"
        "logging_collector = off\n"
        "log_timezone = 'UTC'\n"
        "timezone = 'UTC'\n"
    )


def render_hba() -> str:
    """Client authentication: a password (SCRAM) on the unix socket and on loopback; nothing else."""
    return (
        "# Written by pantau: password (scram-sha-256) on the local socket and 127.0.0.1 only.\n"
        "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
        "local   all       all                 scram-sha-256\n"
        "host    all       all   127.0.0.1/32  scram-sha-256\n"
    )


def blocking_folder(path: Path, uid: int, gids: Sequence[int]) -> Path | None:
    """The first folder from ``/`` down to ``path`` that user ``uid`` (groups ``gids``) may not enter,
    or None when it reaches ``path`` (its existing part)."""
    for folder in [*reversed(path.parents), path]:
        try:
            st = folder.stat()
        except FileNotFoundError:
            return None
        if not _may_enter(st, uid, gids):
            return folder
    return None


def _may_enter(st: os.stat_result, uid: int, gids: Sequence[int]) -> bool:
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def read_postmaster_pid(text: str) -> dict[str, object]:
    """The fields of ``postmaster.pid`` pantau uses: pid, data dir, port, socket dir."""
    lines = text.splitlines()
    try:
        return {"pid": int(lines[0]), "data_dir": lines[1], "port": int(lines[3]), "socket_dir": lines[4]}
    except (IndexError, ValueError):
        return {}


def port_taken_message(host: str, port: int) -> str:
    return (
        f"port {host}:{port} is taken by another process (not the PostgreSQL cluster started by pantau). "
        f"Stop it, choose another port with HISTORY_LOCAL_PORT, {EXTERNAL_HINT}."
    )


# ------------------------------------------------------------------ the cluster


@dataclass(frozen=True)
class LocalPostgres:
    """Paths and port of the embedded cluster under ``home`` (``$PANTAU_HOME/postgres``)."""

    home: Path
    host: str = EMBEDDED_HOST
    port: int = EMBEDDED_POSTGRES_PORT
    lib_root: Path = DEBIAN_LIB

    def __post_init__(self) -> None:
        # Absolute and normalised, as pg_ctl canonicalises it: the server's command line must match data_dir.
        object.__setattr__(self, "home", Path(os.path.abspath(self.home)))

    @classmethod
    def from_settings(cls, settings: HistorySettings) -> LocalPostgres:
        return cls(home=local_state_dir(settings.home), port=settings.local_port)

    # ---------------------------------------------------------------- paths

    @property
    def password_file(self) -> Path:
        """The generated password of the superuser ``pantau`` (0600, owned by whoever runs pantau)."""
        return self.home / "password"

    @property
    def link(self) -> Path:
        """Points at the cluster folder when it lives outside ``home`` (run as root, home closed to postgres)."""
        return self.home / "cluster"

    @property
    def cluster_dir(self) -> Path:
        """The folder of the data, socket and server log: ``home``, or where ``link`` points."""
        return self.link.resolve() if self.link.is_symlink() else self.home

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.cluster_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "logs" / "postgres.log"

    @property
    def created(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def url(self) -> str:
        """The SQLAlchemy URL of the database ``pantau`` (with the password: do not log it)."""
        return embedded_url(self._password(), self.port, self.host)

    @property
    def safe_url(self) -> str:
        return masked(embedded_url("-", self.port, self.host))

    def binaries(self) -> Binaries:
        prefer = (self.data_dir / "PG_VERSION").read_text().strip() if self.created else None
        return find_binaries(self.lib_root, prefer=prefer)

    # ---------------------------------------------------------------- running as the postgres user

    @staticmethod
    def as_root() -> bool:
        return os.geteuid() == 0

    def _owner(self) -> pwd.struct_passwd | None:
        """The system user the cluster runs as when pantau is root (None: as the current user)."""
        if not self.as_root():
            return None
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresSetupError(
                f"PostgreSQL refuses to run as root, and there is no '{SYSTEM_USER}' system user to run it as "
                f"(Debian's package creates it): apt-get install postgresql, {EXTERNAL_HINT}"
            ) from None

    def _prefix(self) -> list[str]:
        """How to run a server program: as is, or as the postgres user when root."""
        if self._owner() is None:
            return []
        if runuser := shutil.which("runuser"):
            return [runuser, "-u", SYSTEM_USER, "--"]
        if setpriv := shutil.which("setpriv"):
            return [setpriv, f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups", "--"]
        raise PostgresSetupError("PostgreSQL refuses to run as root, and neither 'runuser' nor 'setpriv' "
                                 "(util-linux) is there to run it as the postgres user")  # fmt: skip

    def _run(self, args: Sequence[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        cwd = self.cluster_dir if self.cluster_dir.is_dir() else None
        return subprocess.run(
            [*self._prefix(), *args], capture_output=True, text=True, check=False, timeout=timeout, cwd=cwd,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def _owned_dir(self, path: Path, mode: int = 0o700) -> None:
        path.mkdir(parents=True, exist_ok=True)
        owner = self._owner()
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        path.chmod(mode)

    def _owned_file(self, path: Path, text: str, mode: int = 0o600) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        owner = self._owner()
        if owner is not None:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        tmp.chmod(mode)
        tmp.replace(path)

    def _place_cluster(self) -> None:
        """Decide once where the cluster folder is: ``home``, or the postgres user's home when ``home`` is
        closed to that user (pantau runs as root)."""
        self.home.mkdir(parents=True, exist_ok=True)
        owner = self._owner()
        if owner is None or self.link.is_symlink() or (self.home / "data").exists():
            return
        gids = [owner.pw_gid, *(g.gr_gid for g in grp.getgrall() if owner.pw_name in g.gr_mem)]
        blocked = blocking_folder(self.home, owner.pw_uid, gids)
        if blocked is None:
            return
        key = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]
        elsewhere = Path(owner.pw_dir) / f"pantau-{key}"
        if blocking_folder(Path(owner.pw_dir), owner.pw_uid, gids) is not None:
            raise PostgresSetupError(
                f"PostgreSQL refuses to run as root and the '{SYSTEM_USER}' user cannot enter {blocked} (nor its "
                f"home {owner.pw_dir}); set PANTAU_HOME to a folder it can reach, {EXTERNAL_HINT}"
            )
        self._owned_dir(elsewhere)
        self.link.symlink_to(elsewhere, target_is_directory=True)
        log.info("postgres.placed", cluster_dir=str(elsewhere), reason=f"user {SYSTEM_USER} cannot enter {blocked}")

    # ---------------------------------------------------------------- state

    def _password(self) -> str:
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise PostgresSetupError(
                f"the local cluster has no password file ({self.password_file}): run 'pantau postgres up'"
            ) from None

    def postmaster(self) -> dict[str, object]:
        """``postmaster.pid`` of the data folder, read (empty when there is none)."""
        try:
            return read_postmaster_pid((self.data_dir / "postmaster.pid").read_text())
        except OSError:
            return {}

    def pid(self) -> int | None:
        """The pid of the server of this cluster, if it runs."""
        pid = self.postmaster().get("pid")
        if not isinstance(pid, int):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        args = [a.decode(errors="replace") for a in cmdline]
        ours = bool(args) and Path(args[0]).name in ("postgres", "postmaster") and str(self.data_dir) in args
        return pid if ours else None

    def answers(self, timeout: float = 2.0) -> bool:
        """True when the database ``pantau`` accepts pantau's password."""
        try:
            password = self._password()
        except PostgresSetupError:
            return False
        return _connects(self.host, self.port, password, EMBEDDED_DATABASE, timeout)

    def status(self) -> dict[str, object]:
        pid = self.pid()
        running_port = self.postmaster().get("port") if pid else None
        return {
            "managed": True,
            "running": pid is not None,
            "pid": pid,
            "answers": self.answers() if pid else False,
            "host": self.host,
            "port": running_port or self.port,
            "url": self.safe_url,
            "version": self._installed_version(),
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
            "password_file": str(self.password_file),
            "run_as": SYSTEM_USER if self.as_root() else _user_name(),
        }

    def _installed_version(self) -> str | None:
        try:
            return self.binaries().version
        except PostgresSetupError:
            return None

    # ---------------------------------------------------------------- lifecycle

    def _initdb(self, binaries: Binaries) -> None:
        if self.created:
            return
        if not self.password_file.exists():
            self.password_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(secrets.token_urlsafe(24) + "\n")
        self._owned_dir(self.data_dir)
        # initdb reads the password from a file the server's user can open; gone once the cluster exists.
        pwfile = self.cluster_dir / ".initdb-password"
        self._owned_file(pwfile, self._password() + "\n")
        log.info("postgres.initdb", data_dir=str(self.data_dir), version=binaries.version)
        try:
            proc = self._run([
                binaries["initdb"], "-D", str(self.data_dir), "-U", EMBEDDED_USER, f"--pwfile={pwfile}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions",
            ])  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise PostgresSetupError("initdb failed:\n" + (proc.stdout + proc.stderr)[-2000:])
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\n# pantau's settings (listen address, port, socket)\ninclude = '{CONFIG_NAME}'\n")

    def _configure(self) -> None:
        self._owned_dir(self.socket_dir)
        self._owned_dir(self.log_file.parent, 0o755)
        self._owned_file(self.data_dir / CONFIG_NAME, render_config(self.host, self.port, self.socket_dir))
        self._owned_file(self.data_dir / "pg_hba.conf", render_hba())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One ``up`` or ``down`` at a time on this cluster (``make test`` and ``pantau run`` may start together)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def up(self, timeout: float = 60.0) -> tuple[int, bool]:
        """Start the cluster unless it runs (creating it on first use); return (pid, started_now)."""
        with self._locked():
            return self._up(timeout)

    def _up(self, timeout: float) -> tuple[int, bool]:
        pid = self.pid()
        if pid is not None:
            running_port = self.postmaster().get("port")
            if running_port != self.port:
                raise PostgresSetupError(
                    f"the local cluster already runs on port {running_port}, not {self.port}: "
                    "'pantau postgres down' first to move it"
                )
            self._wait(timeout)
            self._create_database()
            return pid, False
        if port_in_use(self.host, self.port):
            raise PostgresSetupError(port_taken_message(self.host, self.port))
        self._place_cluster()
        binaries = self.binaries()
        self._initdb(binaries)
        self._configure()
        self.log_file.touch(exist_ok=True)
        owner = self._owner()
        if owner is not None:
            os.chown(self.log_file, owner.pw_uid, owner.pw_gid)
        proc = self._run(
            [binaries["pg_ctl"], "start", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
             "-t", str(max(1, int(timeout))), "-s"],
            timeout=timeout + 30,
        )  # fmt: skip
        if proc.returncode != 0:
            if port_in_use(self.host, self.port) and self.pid() is None:
                raise PostgresSetupError(port_taken_message(self.host, self.port))
            raise PostgresSetupError(
                f"PostgreSQL did not start (pg_ctl exit {proc.returncode}): {(proc.stdout + proc.stderr).strip()}\n"
                f"last lines of {self.log_file}:\n{tail(self.log_file, 20)}"
            )
        self._wait(timeout)
        self._create_database()
        pid = self.pid()
        if pid is None:
            raise PostgresSetupError(f"PostgreSQL started but its pid is unknown; see {self.log_file}")
        log.info("postgres.up", pid=pid, url=self.safe_url, version=binaries.version, data_dir=str(self.data_dir))
        return pid, True

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _connects(self.host, self.port, self._password(), "postgres", timeout=2.0):
                return
            time.sleep(0.2)
        raise PostgresSetupError(
            f"PostgreSQL did not answer at {self.host}:{self.port} within {timeout:.0f}s; see {self.log_file}"
        )

    def _create_database(self) -> None:
        from psycopg import sql

        with _connect(self.host, self.port, self._password(), "postgres") as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)).fetchone():
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE)))
            log.info("postgres.createdb", database=EMBEDDED_DATABASE)

    def down(self, timeout: float = 60.0) -> bool:
        """Stop the cluster (fast shutdown: clients disconnected, committed data kept); False if it did not run."""
        if self.pid() is None:
            return False
        with self._locked():
            return self._down(timeout)

    def _down(self, timeout: float) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        proc = self._run(
            [self.binaries()["pg_ctl"], "stop", "-D", str(self.data_dir), "-m", "fast", "-w",
             "-t", str(max(1, int(timeout))), "-s"],
            timeout=timeout + 30,
        )  # fmt: skip
        if proc.returncode != 0 and self.pid() is not None:
            raise PostgresSetupError(
                f"PostgreSQL did not stop (pg_ctl exit {proc.returncode}): {(proc.stdout + proc.stderr).strip()}"
            )
        log.info("postgres.down", pid=pid)
        return True


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # an uid without a passwd entry (containers)
        return str(os.geteuid())


def _connect(host: str, port: int, password: str, dbname: str, timeout: float = 5.0) -> psycopg.Connection[Any]:
    import psycopg

    return psycopg.connect(
        host=host, port=port, user=EMBEDDED_USER, password=password, dbname=dbname,
        connect_timeout=max(1, int(timeout)), application_name="pantau-postgres-local", autocommit=True,
    )  # fmt: skip


def _connects(host: str, port: int, password: str, dbname: str, timeout: float = 2.0) -> bool:
    import psycopg

    try:
        with _connect(host, port, password, dbname, timeout) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def url_answers(url: str, timeout: float = 5.0) -> bool:
    """True when the server at the SQLAlchemy ``url`` (PANTAU_DATABASE_URL) accepts a connection."""
    import sqlalchemy as sa

    from services.history.db import create_engine

    engine = create_engine(url, connect_args={"connect_timeout": max(1, int(timeout))})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def wait_for_database(url: str, timeout: float = 60.0) -> None:
    """Return once the server at ``url`` accepts a connection; PostgresSetupError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if url_answers(url, timeout=min(5.0, max(1.0, timeout))):
            return
        time.sleep(0.5)
    raise PostgresSetupError(f"no PostgreSQL server accepted {masked(url)} within {timeout:.0f}s")
