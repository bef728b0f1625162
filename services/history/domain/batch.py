"""The rows of one poll, reduced to one per natural key before they are written in one transaction.

A statement may not upsert the same key twice, and the store keeps per key what the log's order says:

- a score snapshot: the **last** record (a step's or a day's last score; the store's upsert keeps the
  later of the stored and the new row by the same rule, :meth:`Source.supersedes`);
- an alert transition or a plan version: the **first** (it is written once; a later copy changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from services.history.domain.rows import PlanRow, Row, SnapshotRow, Source, TransitionRow


@dataclass
class Batch:
    snapshots: dict[tuple[object, ...], SnapshotRow] = field(default_factory=dict)
    transitions: dict[tuple[object, ...], TransitionRow] = field(default_factory=dict)
    plans: dict[tuple[object, ...], PlanRow] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[Row]) -> Batch:
        batch = cls()
        for row in rows:
            batch.add(row)
        return batch

    def add(self, row: Row) -> None:
        if isinstance(row, SnapshotRow):
            held = self.snapshots.get(row.key)
            if held is None or row.source.supersedes(held.source):
                self.snapshots[row.key] = row
        elif isinstance(row, TransitionRow):
            self.transitions.setdefault(row.key, row)
        else:
            self.plans.setdefault(row.key, row)

    def rows(self) -> Iterator[Row]:
        yield from self.snapshots.values()
        yield from self.transitions.values()
        yield from self.plans.values()

    def __len__(self) -> int:
        return len(self.snapshots) + len(self.transitions) + len(self.plans)

    def fine(self) -> list[SnapshotRow]:
        return [r for r in self.snapshots.values() if r.resolution == "fine"]

    def daily(self) -> list[SnapshotRow]:
        return [r for r in self.snapshots.values() if r.resolution == "day"]

    def without(self, sources: set[Source]) -> Batch:
        """The batch without the rows of these records (refused by the database, handled by the policy)."""
        return Batch.of(r for r in self.rows() if r.source not in sources)

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {
            SnapshotRow.TABLE: len(self.snapshots),
            TransitionRow.TABLE: len(self.transitions),
            PlanRow.TABLE: len(self.plans),
        }
