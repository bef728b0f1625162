"""``pantau run``: the whole platform on the embedded default, stopped cleanly by Ctrl-C or SIGTERM.

It starts the local broker (unless KAFKA_BOOTSTRAP_SERVERS names a cluster) and the local PostgreSQL
cluster of the history store (unless PANTAU_DATABASE_URL names a server), creates the topics,
then starts each component as a child process and watches them. On a signal it stops the children in
reverse order (SIGTERM, then SIGKILL after a grace period) and stops the broker it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pantau import prometheus_local
from pantau.config import REPO_ROOT, PlatformSettings
from pantau.kafka_local import LocalKafka, wait_for_broker
from pantau.postgres_local import LocalPostgres
from pantau.sinks import demo_contacts
from services.alerts.notify.ack import local_secret
from services.history.config import HistorySettings
from services.runtime import logs
from services.runtime.topics import admin_client, ensure_topics

log = logs.get(__name__)


@dataclass
class Component:
    name: str
    argv: list[str]
    where: str = ""  # what to print for the user: an URL or a file
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    oneshot: bool = False  # runs once and exits 0 when done (the demo's seeded past); any other exit is a failure


#: The public pages (services/web): the notifications' links lead there.
WEB_URL = "http://127.0.0.1:8000"
#: The demo's alert timing: alerts fire and resolve within minutes of the simulated drift.
DEMO_ALERTS_ENV = {
    "ALERTS_PENDING_FOR": "PT20S",
    "ALERTS_SAMPLE_EVERY": "PT10S",
    "ALERTS_LOOKBACK": "PT10M",
    "ALERTS_DROP_WINDOW": "PT5M",
    "ALERTS_ESCALATE_AFTER": "PT3M",
    "ALERTS_SMTP_HOST": "127.0.0.1",
    "ALERTS_SMTP_PORT": "8025",
}


def components(settings: PlatformSettings) -> list[Component]:
    """The processes of the platform, in start order (Prometheus and Alertmanager when installed)."""
    home = settings.home
    contacts = demo_contacts(home / "contacts.demo.yaml")
    # One acknowledge secret, made once and kept with the local state: links sent before a restart still work.
    alerts_env = {**DEMO_ALERTS_ENV, "ALERTS_CONTACTS_FILE": str(contacts)}
    if "ALERTS_ACK_SECRET" not in os.environ:  # a secret the user set wins
        alerts_env["ALERTS_ACK_SECRET"] = local_secret(home / "ack-secret")
    if "ALERTS_PUBLIC_URL" not in os.environ:  # the links of the notifications open the web pages
        alerts_env["ALERTS_PUBLIC_URL"] = WEB_URL
    if "ALERTS_PAGES_URL" not in os.environ:  # and each region's card there
        alerts_env["ALERTS_PAGES_URL"] = WEB_URL
    out = [
        Component("sinks", python_module("pantau.cli", "sinks"),
                  where=f"mailbox {home / 'mailbox'}/, webhooks {home / 'webhooks.jsonl'}"),
        Component("ingest", python_module("pantau.cli", "ingest", "run"),
                  where="http://127.0.0.1:8080/docs  (API), /metrics"),
        Component("scoring", python_module("pantau.cli", "scoring", "run"),
                  where="http://127.0.0.1:6066/metrics  (pantau scores show 32.73)"),
    ]  # fmt: skip
    am = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not am:
        out.append(Component("alertmanager", [], where="NOT INSTALLED: `make system-deps` installs it (apt-get)"))
    else:
        alerts_env["ALERTS_ALERTMANAGER_URL"] = "http://127.0.0.1:9093"
        out.append(Component("alertmanager", [
            am, f"--config.file={REPO_ROOT / 'deploy' / 'prometheus' / 'alertmanager.yml'}",
            f"--storage.path={home / 'alertmanager'}", "--web.listen-address=127.0.0.1:9093",
            "--cluster.listen-address=",
        ], where="http://127.0.0.1:9093"))  # fmt: skip
    out.append(Component("alerts", python_module("pantau.cli", "alerts", "run"), env=alerts_env,
                         where="http://127.0.0.1:6067/alerts  (open alerts), /runbooks, /metrics"))  # fmt: skip
    out += [
        Component("history", python_module("pantau.cli", "history", "run"),
                  where="http://127.0.0.1:6068/metrics  (scores, alerts, plans -> PostgreSQL)"),
        Component("history-api", python_module("pantau.cli", "history", "api"),
                  where="http://127.0.0.1:6069/docs  (pantau history show 32.73 --from 2024-01-01)"),
        Component("history-seed", python_module("pantau.cli", "history", "seed-demo", "--workers", "2", "--nice"),
                  oneshot=True,
                  where="the demo's past: daily snapshots since 2024-01-01, marked simulated"),
    ]  # fmt: skip
    out.append(Component("web", python_module("pantau.cli", "web", "run"),
                         where=f"{WEB_URL}/  (the map and ranking; /wilayah/32.73: Kota Bandung's card)"))  # fmt: skip
    if prometheus_local.installed():
        prom = prometheus_local.LocalPrometheus(data_dir=home / "prometheus", port=9090)
        out.append(Component("prometheus", prom.argv(), where="http://127.0.0.1:9090  (rules, alerts, queries)"))
    else:
        out.append(Component("prometheus", [], where="NOT INSTALLED: `make system-deps` installs it (apt-get)"))
    out.append(Component("simulate", python_module("pantau.cli", "simulate", "--rate", "300", "--to", "raw"),
                         where="all 514 regions; 5% drift behind and recover every 4 min"))  # fmt: skip
    return out


def run_platform(settings: PlatformSettings, grace_s: float = 20.0) -> int:
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        log.info("run.signal", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    local: LocalKafka | None = None
    started_kafka = False
    if settings.external_kafka:
        wait_for_broker(settings.bootstrap_servers, 60)
    else:
        local = LocalKafka.from_settings(settings)
        _pid, started_kafka = local.up()
    database = _database_up()
    admin = admin_client(settings.kafka)
    try:
        for rep in ensure_topics(admin):
            log.info("run.topic", topic=rep.name, action=rep.action, drift=rep.drift or None)
    finally:
        admin.close()

    logdir = settings.home / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    # The default national masterplan (and programme status) before the alerts service follows it.
    loaded = subprocess.run(python_module("pantau.cli", "masterplan", "load"), capture_output=True, text=True,
                            check=False)  # fmt: skip
    log.info("run.masterplan", result=(loaded.stdout or loaded.stderr).strip())
    comps = components(settings)
    for c in comps:
        if not c.argv:
            log.warning("run.not_installed", component=c.name, hint="make system-deps")
            continue
        out = (logdir / f"{c.name}.log").open("ab")
        c.proc = subprocess.Popen(c.argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **c.env})
        out.close()
        log.info("run.started", component=c.name, pid=c.proc.pid)

    print(_banner(settings, local, comps, logdir), flush=True)
    code = 0
    while not stop.is_set():
        for c in comps:
            if c.proc is None or c.proc.poll() is None:
                continue
            if c.oneshot and c.proc.returncode == 0:
                log.info("run.component_done", component=c.name, log=str(logdir / f"{c.name}.log"))
                c.proc = None
                continue
            log.error("run.component_exited", component=c.name, code=c.proc.returncode,
                      log=str(logdir / f"{c.name}.log"))  # fmt: skip
            code = 1
            stop.set()
        stop.wait(1.0)

    for c in reversed(comps):
        _stop(c, grace_s)
    if database is not None:
        database.down()
    if local is not None and started_kafka:
        local.down()
    print("Pantau stopped.", flush=True)
    return code


def _database_up() -> LocalPostgres | None:
    """The local PostgreSQL cluster of the history store, started (None: PANTAU_DATABASE_URL names a server,
    or it was already running and is left so)."""
    history = HistorySettings()
    if history.external_database:
        log.info("run.database", url=history.safe_url, note="PANTAU_DATABASE_URL: nothing started")
        return None
    cluster = LocalPostgres.from_settings(history)
    _pid, started = cluster.up(timeout=120)
    log.info("run.database", url=cluster.safe_url, started=started)
    return cluster if started else None


def _stop(c: Component, grace_s: float) -> None:
    if c.proc is None or c.proc.poll() is not None:
        return
    c.proc.send_signal(signal.SIGTERM)
    try:
        c.proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        log.warning("run.kill", component=c.name, reason=f"no exit {grace_s:.0f}s after SIGTERM")
        c.proc.kill()
        c.proc.wait()
    log.info("run.stopped", component=c.name, code=c.proc.returncode)


def _banner(settings: PlatformSettings, local: LocalKafka | None, comps: list[Component], logdir: Path) -> str:
    lines = ["", "Pantau Kota Cerdas is running. Press Ctrl-C to stop.", ""]
    kafka = settings.bootstrap_servers + (f"  (local broker, logs {local.log_file})" if local else "  (external)")
    lines.append(f"  Kafka              {kafka}")
    lines.append(f"  PostgreSQL         {HistorySettings().safe_url}  (history store)")
    for c in comps:
        log_note = f"  (log {logdir / (c.name + '.log')})" if c.argv else ""
        lines.append(f"  {c.name:18} {c.where or ''}{log_note}")
    lines.append("")
    return "\n".join(lines)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
