"""Masterplans on Kafka: read the compacted topic, publish what a plan file changes."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from schemas.masterplan import Masterplan, MasterplanFile, resolve_plans
from schemas.regions import RegionRegistry
from services.runtime.kafka_io import read_topic, safe_producer
from services.runtime.settings import Kafka


def current_plans(kafka: Kafka, topic: str) -> dict[str, Masterplan]:
    """The latest plan of every region on the compacted topic (records that do not parse are skipped)."""
    out: dict[str, Masterplan] = {}
    for rec in read_topic(kafka, topic):
        if rec.value is None:
            continue
        try:
            plan = Masterplan.model_validate_json(rec.value)
        except ValidationError:
            continue
        out[plan.region_code] = plan
    return out


@dataclass(frozen=True)
class LoadReport:
    published: int
    unchanged: int
    by_basis: dict[str, int]


def publish_plans(
    kafka: Kafka, topic: str, files: list[MasterplanFile], regions: RegionRegistry, dry_run: bool = False
) -> LoadReport:
    """Resolve ``files`` over the plans on ``topic`` and publish the regions whose plan changed."""
    before = current_plans(kafka, topic)
    after = resolve_plans(files, regions, before)
    changed = {code: plan for code, plan in after.items() if before.get(code) != plan}
    by_basis: dict[str, int] = {}
    for plan in changed.values():
        by_basis[plan.basis] = by_basis.get(plan.basis, 0) + 1
    if changed and not dry_run:
        producer = safe_producer(kafka, linger_ms=5)
        try:
            for code, plan in sorted(changed.items()):
                producer.send(topic, key=code.encode(), value=plan.model_dump_json().encode())
            producer.flush()
        finally:
            producer.close()
    return LoadReport(published=len(changed), unchanged=len(after) - len(changed), by_basis=by_basis)
