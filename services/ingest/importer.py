"""Bulk import of a CSV series: every row checked first (errors name the line), then written in chunks.

By default nothing is written when any row is invalid; ``skip_invalid`` writes the valid rows anyway.
Rows go straight to ``indicator-events`` through the same producer and the same validation as HTTP
events. Their event ids derive from the content (see domain/csv_rows.py), so importing a file again
adds no new readings.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from schemas.events import IndicatorEvent
from schemas.validation import Problem
from services.ingest.domain.csv_rows import CsvSpec, check_header, rows_to_documents
from services.ingest.domain.intake import Rules, validate_document
from services.ingest.metrics import IngestMetrics
from services.ingest.records import event_record
from services.ingest.writer import KafkaUnavailable, KafkaWriter
from services.runtime.settings import Kafka

CHUNK = 1000


@dataclass
class ImportPlan:
    path: Path
    events: list[IndicatorEvent] = field(default_factory=list)
    problems: list[tuple[int, Problem]] = field(default_factory=list)
    rows: int = 0
    skipped: int = 0  # rows of other indicators

    def describe_problems(self, limit: int = 20) -> list[str]:
        lines = [f"{self.path}:{line}: {p.field}: {p.message} [{p.code}]" for line, p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more")
        return lines


def plan_import(
    path: Path, spec: CsvSpec, rules: Rules, *, publisher: str, now: datetime | None = None,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportPlan:  # fmt: skip
    """Read and check every row of ``path``. ValueError for a file that cannot be read as specified."""
    ind = rules.framework.indicator_map.get(spec.indicator)
    if ind is None:
        raise ValueError(
            f"--indicator: {spec.indicator!r} is not in {rules.framework.key}; see 'pantau framework show'"
        )
    now = now or datetime.now(UTC)
    plan = ImportPlan(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            check_header(reader.fieldnames or [], spec)
            for line, doc in rows_to_documents(reader, spec, ind.unit, now=now):
                plan.rows += 1
                progress(plan.rows)
                if doc is None:
                    plan.skipped += 1
                    continue
                if isinstance(doc, Problem):
                    plan.problems.append((line, doc))
                    continue
                result = validate_document({**doc, "publisher": publisher}, rules, now)
                if isinstance(result, IndicatorEvent):
                    plan.events.append(result)
                else:  # observed_at comes from the period column: name the column the file has
                    plan.problems.extend((line, _in_column(p, "observed_at", spec.period_column)) for p in result)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, csv.Error) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return plan


def _in_column(problem: Problem, field: str, column: str) -> Problem:
    return Problem(problem.code, column, problem.message) if problem.field == field else problem


async def write_events(
    events: list[IndicatorEvent], *, kafka: Kafka, topic: str, timeout: float, metrics: IngestMetrics | None = None,
    progress: Callable[[int], None] = lambda _n: None,
) -> int:  # fmt: skip
    """Write ``events`` in chunks, each acknowledged before the next; the number written.

    Raises KafkaUnavailable (after writing the chunks before it) when the broker stops acknowledging.
    """
    metrics = metrics or IngestMetrics()
    writer = KafkaWriter(kafka, metrics, required_topics=(topic,), timeout=timeout, linger_ms=5)
    await writer.start()
    written = 0
    try:
        if not await writer.wait_ready(max(timeout, 10.0)):
            raise KafkaUnavailable(writer.why_not_ready)
        for start in range(0, len(events), CHUNK):
            chunk = events[start : start + CHUNK]
            acked = await writer.write([event_record(topic, ev) for ev in chunk])
            written += sum(acked)
            metrics.accepted.labels("csv").inc(sum(acked))
            progress(written)
            if not all(acked):
                raise KafkaUnavailable(f"{writer.why_not_ready}; {written} of {len(events)} events written")
    finally:
        await writer.stop()
    return written
