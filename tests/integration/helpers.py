"""Helpers for integration tests: service processes, producing events, reading topics to the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from services.history.db import create_engine, migrate
from services.runtime.topics import admin_client, ensure_topics

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60.0, every: float = 0.2) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


#: Name parts (random prefixes, app ids) of the topics this test session made; they are deleted at
#: its end. Only these: another session or the platform may use the same broker meanwhile.
SESSION_TOPIC_MARKS: set[str] = set()


def create_topics(bootstrap: str, prefix: str) -> None:
    SESSION_TOPIC_MARKS.add(prefix)
    admin = admin_client(bootstrap)
    try:
        ensure_topics(admin, prefix=prefix)
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    n = 0
    for key, value in records:
        producer.send(topic, key=key, value=value)
        n += 1
    producer.flush()
    producer.close()
    return n


def read_all(bootstrap: str, topic: str, timeout: float = 10.0) -> list[Any]:
    """Every record now on ``topic`` (all partitions, up to the current end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    parts = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    end = consumer.end_offsets(tps)
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=500).values():
            out.extend(recs)
    consumer.close()
    return out


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def http_post_json(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """POST with an empty body, asking for JSON (what a ticketing system does with an ``ack_url``)."""
    req = urllib.request.Request(url, data=b"", method="POST", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if (head == name and not want) or (head.startswith(name + "{") and _labels(head) == want):
            return float(value)
    return None


def _labels(head: str) -> str:
    inner = head[head.index("{") + 1 : -1]
    return ",".join(sorted(p for p in inner.split(",") if p))


class ServiceProcess:
    """A service started as ``python -m pantau.cli ...`` with its own environment and log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv = argv
        self.env = {**os.environ, **env}
        SESSION_TOPIC_MARKS.update(v for k, v in env.items() if k.endswith(("_APP_ID", "_TOPIC_PREFIX")) and v)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        out = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "pantau.cli", *self.argv], env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        out.close()
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.argv} did not stop within {timeout}s of SIGTERM; log {self.log}") from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


#: A three-indicator framework whose scores the tests work out by hand.
TINY_FRAMEWORK = """
framework:
  id: tiny
  version: "1"
  title: Tiny
  minimum_coverage: 0.5
  levels:
    - {level: 1, name: Rintisan, min_score: 0}
    - {level: 2, name: Terkelola, min_score: 1}
    - {level: 3, name: Terdefinisi, min_score: 2}
    - {level: 4, name: Terpadu dan Terukur, min_score: 3}
    - {level: 5, name: Optimum, min_score: 4}
  dimensions:
    - id: governance
      name: Governance
      weight: 2
      elements:
        - id: public_services
          name: Public services
          indicators:
            - {id: GOV_UPTIME, name: Uptime, unit: percent, direction: higher_is_better, weight: 3,
               bounds: {min: 0, max: 100}, normalisation: {method: min_max, min: 90, max: 100},
               aggregation: {method: latest}, validity: P3650D, source: test}
            - {id: GOV_RESPONSE_HOURS, name: Response, unit: hours, direction: lower_is_better, weight: 1,
               bounds: {min: 0, max: 8760}, normalisation: {method: target, target: 24},
               aggregation: {method: latest}, validity: P3650D, source: test}
    - id: environment
      name: Environment
      weight: 1
      elements:
        - id: protection
          name: Protection
          indicators:
            - {id: ENV_PM25, name: PM2.5, unit: ug/m3, direction: lower_is_better, weight: 1,
               bounds: {min: 0, max: 1000}, normalisation: {method: thresholds, thresholds: [75, 55, 35, 15, 5]},
               aggregation: {method: latest}, validity: P3650D, source: test}
"""


@contextmanager
def history_schema(server_url: str, prefix: str = "h", options: str = "") -> Iterator[tuple[str, sa.Engine]]:
    """A schema of its own on the history store's server, migrated to head, dropped afterwards: its URL
    (``search_path`` set, for a process) and an engine on it (``options``: more ``-c name=value``)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    engine = create_engine(server_url, connect_args={"options": f"-c search_path={name} {options}".strip()})
    try:
        migrate(engine)
        yield f"{server_url}{'&' if '?' in server_url else '?'}options=-csearch_path%3D{name}", engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
