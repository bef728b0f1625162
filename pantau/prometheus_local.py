"""A real Prometheus (Debian's ``prometheus`` package) on a given port, config and data directory.

Used by ``make run`` (through ``pantau run``) and by the integration tests that check the boards'
queries. Start waits until ``/-/ready`` answers; stop sends SIGTERM (Prometheus flushes its head block
and exits) and SIGKILL only after a grace period.

    with LocalPrometheus(config=DEFAULT_CONFIG, data_dir=tmp, port=9090) as prom:
        print(prom.url, prom.query("up"))
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pantau.config import REPO_ROOT

PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
DEFAULT_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
INSTALL_HINT = "install Debian's package: apt-get install prometheus (it brings promtool too)"


class PrometheusError(RuntimeError):
    """Prometheus could not be started, did not become ready, or answered a query with an error."""


class PrometheusNotInstalled(PrometheusError):
    """The ``prometheus`` (or ``promtool``) binary is not on PATH."""


def find_binary(name: str = "prometheus") -> Path:
    """The path of ``name`` on PATH, or PrometheusNotInstalled saying how to install it."""
    found = shutil.which(name)
    if found is None:
        raise PrometheusNotInstalled(f"{name!r} is not on PATH; {INSTALL_HINT}")
    return Path(found)


def installed() -> bool:
    return shutil.which("prometheus") is not None


def version(binary: Path | None = None) -> str:
    """The version line of the binary, e.g. ``prometheus, version 2.42.0+ds (...)``."""
    out = subprocess.run([str(binary or find_binary()), "--version"], capture_output=True, text=True, check=True)
    return (out.stdout or out.stderr).splitlines()[0].strip()


def render_config(
    base: Path = DEFAULT_CONFIG,
    *,
    targets: Mapping[str, Sequence[str]] | None = None,
    scrape_interval: str | None = None,
    evaluation_interval: str | None = None,
    alertmanagers: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``base`` as a dict, made usable from any directory, with optional overrides.

    Rule file patterns become absolute (they are relative to the config file). With ``targets``,
    only the jobs named there are kept, each scraping the given ``host:port`` list; other jobs of
    ``base`` are dropped. ``alertmanagers=[]`` removes the alerting section.
    """
    cfg: dict[str, Any] = yaml.safe_load(base.read_text())
    cfg["rule_files"] = [str((base.parent / p).resolve()) for p in cfg.get("rule_files", [])]
    glob = cfg.setdefault("global", {})
    if scrape_interval:
        glob["scrape_interval"] = scrape_interval
        glob["scrape_timeout"] = scrape_interval
    if evaluation_interval:
        glob["evaluation_interval"] = evaluation_interval
    if targets is not None:
        by_name = {j["job_name"]: j for j in cfg.get("scrape_configs", [])}
        jobs = []
        for name, hosts in targets.items():
            job = dict(by_name.get(name, {"job_name": name}))
            job["static_configs"] = [{"targets": list(hosts)}]
            job.pop("scrape_interval", None)
            job.pop("scrape_timeout", None)
            jobs.append(job)
        cfg["scrape_configs"] = jobs
    if alertmanagers is not None:
        if alertmanagers:
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
        else:
            cfg.pop("alerting", None)
    return cfg


def write_config(cfg: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(cfg), sort_keys=False))
    return path


class LocalPrometheus:
    """One Prometheus process. Not thread-safe; one start/stop cycle per instance."""

    def __init__(
        self,
        config: Path = DEFAULT_CONFIG,
        data_dir: Path | None = None,
        *,
        port: int = 9090,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        binary: Path | None = None,
        retention: str = "15d",
        extra_args: Sequence[str] = (),
    ) -> None:
        if data_dir is None:
            raise ValueError("LocalPrometheus needs a data_dir (its TSDB)")
        self.config = Path(config)
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.log_file = Path(log_file) if log_file else self.data_dir / "prometheus.log"
        self.binary = binary
        self.retention = retention
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def argv(self) -> list[str]:
        binary = self.binary or find_binary("prometheus")
        if not binary.is_file():
            raise PrometheusNotInstalled(f"{binary} does not exist; {INSTALL_HINT}")
        return [
            str(binary),
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address={self.host}:{self.port}",
            *self.extra_args,
        ]

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 60.0) -> LocalPrometheus:
        """Start Prometheus and return once ``/-/ready`` answers 200."""
        if self.proc is not None and self.proc.poll() is None:
            raise PrometheusError(f"Prometheus is already running (pid {self.proc.pid})")
        if not self.config.is_file():
            raise PrometheusError(f"no Prometheus config at {self.config}")
        argv = self.argv()  # raises PrometheusNotInstalled first
        if _answers(f"{self.url}/-/ready"):
            raise PrometheusError(f"something already answers at {self.url}; choose another port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusError(
                    f"Prometheus exited with code {self.proc.returncode} during start-up; "
                    f"last lines of {self.log_file}:\n{self.tail()}"
                )
            if _answers(f"{self.url}/-/ready"):
                return self
            time.sleep(0.2)
        self.stop()
        raise PrometheusError(f"Prometheus was not ready at {self.url} within {timeout:.0f}s:\n{self.tail()}")

    def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL. The exit code, or None if never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def __enter__(self) -> LocalPrometheus:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ HTTP API

    def api(self, path: str, params: Mapping[str, str | Sequence[str]] | None = None, timeout: float = 30.0) -> Any:
        """GET ``/api/v1/<path>`` and return its ``data``; PrometheusError on an error answer."""
        query = urllib.parse.urlencode(params or {}, doseq=True)
        url = f"{self.url}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                body = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read())
            except ValueError:
                raise PrometheusError(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise PrometheusError(f"{url}: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusError(f"{url}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; the result vector (or matrix/scalar wrapped as a list)."""
        params = {"query": expr} if at is None else {"query": expr, "time": str(at)}
        data = self.api("query", params)
        result = data["result"]
        return result if isinstance(result, list) else [{"metric": {}, "value": result}]

    def targets_up(self) -> dict[str, bool]:
        """``job/instance`` -> whether the last scrape succeeded, for every active target."""
        data = self.api("targets", {"state": "active"})
        return {f"{t['labels']['job']}/{t['labels']['instance']}": t["health"] == "up" for t in data["activeTargets"]}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
