"""A poll's records, made ready to write: their rows reduced per natural key, their dead letters, and the
offsets the transaction advances.

- A record its contract refuses (or a tombstone on ``region-scores`` / ``maturity-alerts``) is a dead letter
  under every policy: bad input (reasons ``schema_invalid``, ``empty_value``).
- A record whose mapping raises is a processing error: ``HISTORY_ERROR_POLICY`` (services/runtime/errors.py)
  says dlq (``internal_error``), crash (ProcessingStopped: nothing of the poll is written) or skip.

Counts are kept with the batch and reach the metrics only once its transaction commits: a batch retried
through an outage is counted once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas.dlq import dlq_headers
from services.history.domain import Batch, DeadLetter, Downsampling, Source, decode
from services.history.service.ports import TP, Advance, Letter, Received
from services.runtime.errors import ErrorPolicy, FailedRecord, on_processing_error

SERVICE = "history"


@dataclass
class Prepared:
    batch: Batch = field(default_factory=Batch)
    letters: list[Letter] = field(default_factory=list)
    advances: list[Advance] = field(default_factory=list)
    #: (topic, partition, offset) -> the record, to find what a refused row was written from
    records: dict[tuple[str, int, int], Received] = field(default_factory=dict)
    #: (topic, outcome) -> records; policy -> processing errors
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    policies: Counter[str] = field(default_factory=Counter)

    def record_of(self, source: Source) -> Received:
        return self.records[(source.topic, source.partition, source.offset)]


class Intake:
    def __init__(
        self,
        kinds: Mapping[str, str],
        downsampling: Downsampling,
        policy: ErrorPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.kinds = dict(kinds)  # topic name as followed -> registry name (region-scores...)
        self.downsampling = downsampling
        self.policy: ErrorPolicy = policy
        self.clock = clock

    async def prepare(self, fetched: Mapping[TP, Sequence[Received]], stored: Mapping[TP, int | None]) -> Prepared:
        """The batch of ``fetched``; each partition's offset advances from ``stored`` past its last record."""
        out = Prepared()
        now = self.clock()
        for tp, records in fetched.items():
            for rec in records:
                out.records[(rec.topic, rec.partition, rec.offset)] = rec
                await self._one(rec, now, out)
            out.advances.append(Advance(tp, stored.get(tp), records[-1].offset + 1))
        return out

    async def _one(self, rec: Received, now: datetime, out: Prepared) -> None:
        source = Source(rec.topic, rec.partition, rec.offset, rec.timestamp)
        kind = self.kinds[rec.topic]
        try:
            decoded = decode(kind, rec.value, source, self.downsampling, now)
        except Exception as exc:  # a bug, or input the contracts let through: the policy
            await self.failed(rec, exc, out)
            return
        if isinstance(decoded, DeadLetter):
            out.letters.append(refused_letter(rec, decoded))
            out.outcomes[(kind, "dead_letter")] += 1
        elif not decoded:
            out.outcomes[(kind, "ignored")] += 1
        else:
            for row in decoded:
                out.batch.add(row)
            out.outcomes[(kind, "stored")] += 1

    async def failed(self, rec: Received, exc: BaseException, out: Prepared) -> None:
        """Apply the error policy to ``rec``; its dead letter (``dlq``) goes with the batch."""
        kind = self.kinds[rec.topic]
        letters: list[Letter] = []

        async def dead_letter(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
            letters.append(Letter(key, value, headers, (rec.topic, rec.partition, rec.offset)))

        def count(policy: str) -> None:
            out.policies[policy] += 1

        failed = FailedRecord(rec.topic, rec.partition, rec.offset, rec.key, rec.value)
        await on_processing_error(self.policy, failed, exc, service=SERVICE, send_dead_letter=dead_letter,
                                  count=count)  # fmt: skip
        out.letters.extend(letters)
        out.outcomes[(kind, "dead_letter" if letters else "skipped")] += 1


def refused_letter(rec: Received, why: DeadLetter) -> Letter:
    headers = dlq_headers(reason=why.reason, detail=why.detail, topic=rec.topic, partition=rec.partition,
                          offset=rec.offset, service=SERVICE)  # fmt: skip
    return Letter(rec.key, rec.value, headers, (rec.topic, rec.partition, rec.offset))
