"""Create the registry's topics idempotently and report drift between registry and cluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaTimeoutError

from schemas.topics import TOPICS, TopicSpec
from services.runtime import logs
from services.runtime.settings import Kafka, connection

log = logs.get(__name__)

ERR_TOPIC_EXISTS = 36


@dataclass
class TopicReport:
    name: str
    action: str  # "created" | "exists" | "failed"
    drift: list[str] = field(default_factory=list)
    error: str | None = None


def admin_client(kafka: Kafka, timeout_s: float = 30.0) -> KafkaAdminClient:
    """An admin client of the cluster (``kafka``: a connection with its security settings, or a bootstrap)."""
    return KafkaAdminClient(
        **connection(kafka).kafka_python(),
        client_id="pantau-admin",
        request_timeout_ms=int(timeout_s * 1000),
        bootstrap_timeout_ms=int(timeout_s * 1000),
    )


def ensure_topics(
    admin: KafkaAdminClient,
    specs: tuple[TopicSpec, ...] = TOPICS,
    *,
    prefix: str = "",
    replication_factor: int = 1,
) -> list[TopicReport]:
    """Create missing topics; for existing ones, compare partitions and configs with the registry.

    ``prefix`` namespaces the topic names (tests use it to get topics of their own).
    """
    new = [NewTopic(prefix + s.name, s.partitions, replication_factor, topic_configs=s.configs()) for s in specs]
    result = _create(admin, new)
    reports: dict[str, TopicReport] = {}
    for t in result["topics"]:
        name, code = t["name"], t["error_code"]
        if code == 0:
            reports[name] = TopicReport(name, "created")
        elif code == ERR_TOPIC_EXISTS:
            reports[name] = TopicReport(name, "exists")
        else:
            reports[name] = TopicReport(name, "failed", error=f"error {code}: {t.get('error_message')}")
    for rep, drift in zip(reports.values(), check_drift(admin, specs, prefix=prefix, names=list(reports)), strict=True):
        rep.drift = drift
    return [reports[prefix + s.name] for s in specs]


def check_drift(
    admin: KafkaAdminClient,
    specs: tuple[TopicSpec, ...] = TOPICS,
    *,
    prefix: str = "",
    names: list[str] | None = None,
) -> list[list[str]]:
    """For each spec (in the order of ``names`` if given), what differs on the cluster."""
    by_name = {prefix + s.name: s for s in specs}
    order = names or list(by_name)
    existing = set(admin.list_topics())
    present = [n for n in order if n in existing]
    partitions = {d["name"]: len(d["partitions"]) for d in (admin.describe_topics(present) if present else [])}
    configs = (
        admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in present], config_filter="all")
        if present
        else {"topic": {}}
    )["topic"]
    out: list[list[str]] = []
    for n in order:
        spec = by_name[n]
        if n not in existing:
            out.append(["missing on the cluster"])
            continue
        drift = []
        if partitions.get(n) != spec.partitions:
            drift.append(f"partitions: registry {spec.partitions}, cluster {partitions.get(n)}")
        have = configs.get(n, {})
        for key, want in spec.configs().items():
            got = have.get(key, {}).get("value")
            if got != want:
                drift.append(f"{key}: registry {want}, cluster {got}")
        out.append(drift)
    return out


def ensure_changelogs(kafka: Kafka, app_id: str, tables: list[str], partitions: int) -> None:
    """Create the compacted changelog topics of a faust app's tables before faust starts.

    faust declares them itself at start-up, but on a freshly started broker its consumer can see a
    just-created topic with no partitions yet and keep that view for minutes; the first table write
    then fails with PartitionsMismatch. Created and fully visible beforehand, they are simply found.
    """
    admin = admin_client(kafka)
    try:
        new = [NewTopic(f"{app_id}-{t}-changelog", partitions, 1, topic_configs={"cleanup.policy": "compact"})
               for t in tables]  # fmt: skip
        result = _create(admin, new)
        for t in result["topics"]:
            if t["error_code"] not in (0, ERR_TOPIC_EXISTS):
                raise RuntimeError(f"cannot create {t['name']}: error {t['error_code']}: {t.get('error_message')}")
    finally:
        admin.close()


def delete_topics(kafka: Kafka, keep: Callable[[str], bool]) -> list[str]:
    """Delete every topic on the cluster for which ``keep`` is false; return the names deleted.

    Tests and benchmarks make topics of their own (under a unique prefix) on the developer's local
    broker; left behind, thousands of partitions exhaust the broker's file handles within days.
    """
    admin = admin_client(kafka)
    try:
        doomed = sorted(t for t in admin.list_topics() if not t.startswith("__") and not keep(t))
        for start in range(0, len(doomed), 100):
            admin.delete_topics(doomed[start : start + 100])
        return doomed
    finally:
        admin.close()


def _create(admin: KafkaAdminClient, new: list[NewTopic], attempts: int = 6) -> Any:
    """create_topics that waits for the new topics' metadata, again if it is slow to show.

    A broker that has just restarted with many topics to recover creates new ones at once but can
    take longer than kafka-python's 10 s wait to report them; asking again finds them existing.
    """
    for attempt in range(attempts):
        try:
            return admin.create_topics(new, raise_errors=False, wait_for_metadata=True)
        except KafkaTimeoutError:
            if attempt == attempts - 1:
                raise
            log.info("topics.metadata_slow", attempt=attempt + 1)
    raise AssertionError("unreachable")
