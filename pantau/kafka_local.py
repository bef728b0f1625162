"""The embedded development broker: a single-node KRaft Apache Kafka from Maven Central jars.

``up`` fetches the jars (Maven), formats storage on first use (``kafka.tools.StorageTool format
--standalone``), starts ``kafka.Kafka`` on 127.0.0.1:9092 and returns when the broker answers. It is
idempotent. ``down`` stops the broker with SIGTERM (a controlled shutdown) and waits for it.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pantau.config import (
    EMBEDDED_CONTROLLER_PORT,
    EMBEDDED_HOST,
    EMBEDDED_PORT,
    REPO_ROOT,
    PlatformSettings,
)
from services.runtime import logs

log = logs.get(__name__)

KAFKA_DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
#: The local broker's SASL listener (off 9090 Prometheus, 9093/9094 Alertmanager, 19093 the controller).
EMBEDDED_SASL_PORT = 19092
#: Its one user: a development broker on loopback, so fixed and public (never a real cluster's).
LOCAL_SASL_USER = "pantau"
LOCAL_SASL_PASSWORD = "pantau-local"
MIN_JAVA = 17
MAIN_CLASS = "kafka.Kafka"


class KafkaSetupError(RuntimeError):
    """Something a user must fix before the local broker can run; the message says what."""


def new_cluster_id() -> str:
    """A random Kafka cluster id (base64url of a UUID) that never starts with '-'.

    The storage tool's argument parser reads an id starting with '-' as an option; Kafka's own
    ``Uuid.randomUuid`` redraws in that case too.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass(frozen=True)
class LocalKafka:
    """Paths and ports of the embedded broker under ``settings.home``."""

    home: Path
    host: str = EMBEDDED_HOST
    port: int = EMBEDDED_PORT
    controller_port: int = EMBEDDED_CONTROLLER_PORT
    #: The SASL (PLAIN) listener: the same broker, for clients configured as against a secured cluster.
    sasl_port: int = EMBEDDED_SASL_PORT

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> LocalKafka:
        return cls(home=settings.home / "kafka")

    @property
    def libs(self) -> Path:
        return self.home / "libs"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def version(self) -> str:
        text = (KAFKA_DEPLOY_DIR / "pom.xml").read_text(encoding="utf-8")
        m = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", text)
        return m.group(1) if m else "unknown"

    # ---------------------------------------------------------------- prerequisites

    def check_java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise KafkaSetupError(f"Java {MIN_JAVA}+ is needed for the local Kafka broker: 'java' is not on PATH")
        out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
        m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
        if not m:
            raise KafkaSetupError(f"cannot tell the Java version from 'java -version': {out.strip()[:200]}")
        major = int(m.group(1))
        if major == 1 and m.group(2):  # "1.8.0_x" style
            major = int(m.group(2))
        if major < MIN_JAVA:
            raise KafkaSetupError(f"Java {MIN_JAVA}+ is needed for Kafka {self.version}, found Java {major} at {java}")
        return java

    def jars_present(self) -> bool:
        return self.libs.is_dir() and any(self.libs.glob(f"kafka_2.13-{self.version}.jar"))

    def fetch(self) -> Path:
        """Fetch the pinned Kafka jars and their runtime dependencies from Maven Central."""
        if self.jars_present():
            return self.libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaSetupError("Maven ('mvn') is needed to fetch the Kafka jars from Maven Central")
        self.check_java()
        tmp = self.home / "libs.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        log.info("kafka.fetch", version=self.version, into=str(self.libs))
        proc = subprocess.run(
            [
                mvn, "-B", "-q", "-f", str(KAFKA_DEPLOY_DIR / "pom.xml"),
                "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={tmp}",
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise KafkaSetupError("Maven could not fetch the Kafka jars:\n" + "\n".join(tail))
        shutil.rmtree(self.libs, ignore_errors=True)
        tmp.rename(self.libs)
        return self.libs

    # ---------------------------------------------------------------- state

    def pid(self) -> int | None:
        """The pid of the broker this project started, if it is still that process."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return None
        return pid if MAIN_CLASS in cmdline and str(self.config_file) in cmdline else None

    def answers(self, timeout: float = 2.0) -> bool:
        return broker_answers(self.bootstrap, timeout)

    def status(self) -> dict[str, object]:
        pid = self.pid()
        return {
            "managed": True,
            "running": pid is not None,
            "pid": pid,
            "answers": self.answers() if pid else False,
            "bootstrap": self.bootstrap,
            "version": self.version,
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
        }

    # ---------------------------------------------------------------- lifecycle

    def _classpath(self) -> str:
        return str(self.libs / "*")

    def _render_config(self) -> None:
        template = (KAFKA_DEPLOY_DIR / "server.properties.template").read_text(encoding="utf-8")
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            template.format(
                host=self.host,
                port=self.port,
                controller_port=self.controller_port,
                data_dir=self.data_dir,
                sasl_port=self.sasl_port,
                sasl_user=LOCAL_SASL_USER,
                sasl_password=LOCAL_SASL_PASSWORD,
            ),
            encoding="utf-8",
        )

    def _format_storage(self, java: str) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        log.info("kafka.format", data_dir=str(self.data_dir), cluster_id=cluster_id)
        proc = subprocess.run(
            [java, "-cp", self._classpath(), "kafka.tools.StorageTool", "format", "--standalone",
             "-t", cluster_id, "-c", str(self.config_file)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise KafkaSetupError("formatting Kafka storage failed:\n" + (proc.stdout + proc.stderr)[-2000:])

    def up(self, timeout: float = 90.0) -> tuple[int, bool]:
        """Start the broker unless it runs; return (pid, started_now)."""
        pid = self.pid()
        if pid is not None:
            wait_for_broker(self.bootstrap, timeout)
            return pid, False
        for port in (self.port, self.controller_port, self.sasl_port):
            if port_in_use(self.host, port):
                raise KafkaSetupError(
                    f"port {self.host}:{port} is taken by another process (not a broker started by pantau). "
                    "Stop it, or point Pantau at an existing cluster with KAFKA_BOOTSTRAP_SERVERS."
                )
        java = self.check_java()
        self.fetch()
        self._render_config()
        self._format_storage(java)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        logf = self.log_file.open("ab")
        cmd = [
            java, "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            "-Dorg.slf4j.simpleLogger.log.org.apache.kafka=warn",
            "-Dorg.slf4j.simpleLogger.log.kafka=info",
            "-Dorg.slf4j.simpleLogger.log.state.change.logger=warn",
            "-cp", self._classpath(), MAIN_CLASS, str(self.config_file),
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.home)
        logf.close()
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise KafkaSetupError(
                    f"the Kafka broker exited with code {proc.returncode}; last lines of {self.log_file}:\n"
                    + tail(self.log_file, 20)
                )
            if self.answers(timeout=1.0):
                log.info("kafka.up", pid=proc.pid, bootstrap=self.bootstrap, version=self.version)
                return proc.pid, True
            time.sleep(0.3)
        proc.terminate()
        raise KafkaSetupError(f"the Kafka broker did not answer within {timeout:.0f}s; see {self.log_file}")

    def down(self, timeout: float = 60.0) -> bool:
        """Stop the broker with SIGTERM (controlled shutdown), SIGKILL after ``timeout``."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            log.warning("kafka.kill", pid=pid, reason=f"no exit {timeout:.0f}s after SIGTERM")
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        log.info("kafka.down", pid=pid)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def broker_answers(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when a Kafka broker at ``bootstrap`` answers a metadata request."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout * 1000),
            bootstrap_timeout_ms=int(timeout * 1000),
            client_id="pantau-probe",
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def wait_for_broker(bootstrap: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker_answers(bootstrap, timeout=2.0):
            return
        time.sleep(0.5)
    raise KafkaSetupError(f"no Kafka broker answered at {bootstrap} within {timeout:.0f}s")


def tail(path: Path, n: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"
