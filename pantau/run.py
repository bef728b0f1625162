"""``pantau run``: the whole platform on the embedded default, stopped cleanly by Ctrl-C or SIGTERM.

It starts the local broker (unless KAFKA_BOOTSTRAP_SERVERS names a cluster), creates the topics,
then starts each component as a child process and watches them. On a signal it stops the children in
reverse order (SIGTERM, then SIGKILL after a grace period) and stops the broker it started.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pantau import logs
from pantau.config import PlatformSettings
from pantau.kafka_local import LocalKafka, wait_for_broker
from pantau.topics_admin import admin_client, ensure_topics

log = logs.get(__name__)


@dataclass
class Component:
    name: str
    argv: list[str]
    where: str = ""  # what to print for the user: an URL or a file
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def components(settings: PlatformSettings) -> list[Component]:
    """The services of the platform, in start order."""
    return [
        Component(
            "scoring",
            python_module("pantau.cli", "scoring", "run"),
            where="http://127.0.0.1:6066/metrics  (pantau scores show 32.73)",
        ),
    ]


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
    admin = admin_client(settings.bootstrap_servers)
    try:
        for rep in ensure_topics(admin):
            log.info("run.topic", topic=rep.name, action=rep.action, drift=rep.drift or None)
    finally:
        admin.close()

    comps = components(settings)
    logdir = settings.home / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    for c in comps:
        out = (logdir / f"{c.name}.log").open("ab")
        c.proc = subprocess.Popen(c.argv, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        log.info("run.started", component=c.name, pid=c.proc.pid)

    print(_banner(settings, local, comps, logdir), flush=True)
    code = 0
    while not stop.is_set():
        for c in comps:
            if c.proc is not None and c.proc.poll() is not None:
                log.error("run.component_exited", component=c.name, code=c.proc.returncode,
                          log=str(logdir / f"{c.name}.log"))  # fmt: skip
                code = 1
                stop.set()
        stop.wait(1.0)

    for c in reversed(comps):
        _stop(c, grace_s)
    if local is not None and started_kafka:
        local.down()
    print("Pantau stopped.", flush=True)
    return code


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
    for c in comps:
        lines.append(f"  {c.name:18} {c.where or ''}  (log {logdir / (c.name + '.log')})")
    lines.append("")
    return "\n".join(lines)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
