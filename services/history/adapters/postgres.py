"""The history store's writes, in SQLAlchemy 2 Core over psycopg 3 (the schema: migrations/versions/).

- Score snapshots are upserted on their natural key (a fine one on the step's start, a closing one on the
  region's local day) and replaced only by a record later in the log (same partition, higher offset), so
  that a replay from an older offset, or a second writer replaying the topics, changes no row.
- Alert transitions and plan versions are inserted once (``ON CONFLICT DO NOTHING``).
- ``consumer_offsets`` is advanced compare-and-set in the same transaction: from the offset the writer
  read from, else the transaction is rolled back (:class:`OffsetsMoved`).

Failures reach the service as its own exceptions: a refused value (integrity or data error) is
:class:`RowsRefused`, anything else that did not reach or satisfy the server is :class:`DatabaseUnavailable`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.history import db
from services.history.domain import Batch, Row, SnapshotRow, TransitionRow
from services.history.service.ports import TP, Advance, DatabaseUnavailable, OffsetsMoved, RowsRefused

metadata = sa.MetaData()


def _source() -> list[sa.Column[Any]]:
    return [sa.Column("source_partition", sa.Integer), sa.Column("source_offset", sa.BigInteger),
            sa.Column("written_at", sa.DateTime(timezone=True), server_default=sa.func.now())]  # fmt: skip


score_snapshots = sa.Table(
    "score_snapshots", metadata,
    sa.Column("region_code", sa.Text, primary_key=True), sa.Column("province_code", sa.Text),
    sa.Column("framework_id", sa.Text, primary_key=True), sa.Column("framework_version", sa.Text, primary_key=True),
    sa.Column("resolution", sa.Text, primary_key=True), sa.Column("at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("day", sa.Date), sa.Column("index", sa.Float), sa.Column("level", sa.SmallInteger),
    sa.Column("level_name", sa.Text), sa.Column("coverage", sa.Float), sa.Column("status", sa.Text),
    sa.Column("dimensions", JSONB), sa.Column("events_applied", sa.BigInteger), sa.Column("simulated", sa.Boolean),
    *_source(),
)  # fmt: skip
alert_transitions = sa.Table(
    "alert_transitions", metadata,
    sa.Column("transition_id", sa.Text, primary_key=True), sa.Column("alert_id", sa.Text),
    sa.Column("region_code", sa.Text), sa.Column("province_code", sa.Text), sa.Column("kind", sa.Text),
    sa.Column("target", sa.Text), sa.Column("state", sa.Text), sa.Column("severity", sa.Text),
    sa.Column("escalation", sa.Text), sa.Column("at", sa.DateTime(timezone=True)), sa.Column("payload", JSONB),
    *_source(),
)  # fmt: skip
plan_versions = sa.Table(
    "plan_versions", metadata,
    sa.Column("region_code", sa.Text, primary_key=True), sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("plan_hash", sa.Text, primary_key=True), sa.Column("framework_id", sa.Text),
    sa.Column("basis", sa.Text), sa.Column("received_at", sa.DateTime(timezone=True)), sa.Column("payload", JSONB),
    *_source(),
)  # fmt: skip
consumer_offsets = sa.Table(
    "consumer_offsets", metadata,
    sa.Column("consumer", sa.Text, primary_key=True), sa.Column("topic", sa.Text, primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True), sa.Column("next_offset", sa.BigInteger),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)  # fmt: skip

_SNAPSHOT_KEY = ("region_code", "framework_id", "framework_version", "resolution", "at")
#: A closing snapshot's key is its local day (the partial unique index uq_score_snapshots_region_day).
_DAY_KEY = ("region_code", "framework_id", "framework_version", "day")
PRUNE_CHUNK = 10_000


def _snapshot_upsert(resolution: str) -> sa.Insert:
    stmt = pg_insert(score_snapshots)
    t, new = score_snapshots.c, stmt.excluded
    keep = _SNAPSHOT_KEY if resolution == "fine" else _DAY_KEY
    updated = {c.name: new[c.name] for c in score_snapshots.columns if c.name not in keep and c.name != "written_at"}
    later = sa.or_(t.source_partition.is_distinct_from(new.source_partition), t.source_offset < new.source_offset)
    set_ = {**updated, "written_at": sa.func.now()}
    if resolution == "fine":
        return stmt.on_conflict_do_update(constraint="pk_score_snapshots", set_=set_, where=later)
    # A literal predicate: PostgreSQL infers the partial index from it (a bound parameter it cannot).
    return stmt.on_conflict_do_update(index_elements=list(_DAY_KEY), index_where=sa.text("resolution = 'day'"),
                                      set_=set_, where=later)  # fmt: skip


FINE_UPSERT = _snapshot_upsert("fine")
DAY_UPSERT = _snapshot_upsert("day")
TRANSITION_INSERT = pg_insert(alert_transitions).on_conflict_do_nothing(constraint="pk_alert_transitions")
PLAN_INSERT = pg_insert(plan_versions).on_conflict_do_nothing(constraint="pk_plan_versions")
PRUNE = sa.text(
    "DELETE FROM score_snapshots WHERE ctid IN (SELECT ctid FROM score_snapshots "
    "WHERE resolution = 'fine' AND at < :cutoff LIMIT :chunk) RETURNING 1"
)


def statement_of(row: Row) -> sa.Executable:
    if isinstance(row, SnapshotRow):
        return FINE_UPSERT if row.resolution == "fine" else DAY_UPSERT
    return TRANSITION_INSERT if isinstance(row, TransitionRow) else PLAN_INSERT


@contextmanager
def translated() -> Iterator[None]:
    """SQLAlchemy's and the driver's failures as the service's exceptions."""
    try:
        yield
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        raise RowsRefused(str(exc.orig).strip()[:500]) from exc
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(str(exc).strip()[:500]) from exc


class PostgresStore:
    def __init__(self, engine: sa.Engine, consumer: str) -> None:
        self.engine = engine
        self.consumer = consumer

    def migrate(self) -> str:
        with translated():
            return db.migrate(self.engine)

    def load_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        c = consumer_offsets.c
        topics = sorted({t for t, _p in tps})
        query = sa.select(c.topic, c.partition, c.next_offset).where(c.consumer == self.consumer, c.topic.in_(topics))
        with translated(), self.engine.connect() as conn:
            stored = {(r.topic, r.partition): int(r.next_offset) for r in conn.execute(query)}
        return {tp: stored[tp] for tp in tps if tp in stored}

    def write(self, batch: Batch, advances: Sequence[Advance]) -> None:
        with translated(), self.engine.begin() as conn:
            for stmt, rows in ((FINE_UPSERT, batch.fine()), (DAY_UPSERT, batch.daily()),
                               (TRANSITION_INSERT, list(batch.transitions.values())),
                               (PLAN_INSERT, list(batch.plans.values()))):  # fmt: skip
                if rows:
                    conn.execute(stmt, [r.values() for r in rows])
            self._advance(conn, advances)

    def _advance(self, conn: sa.Connection, advances: Sequence[Advance]) -> None:
        c = consumer_offsets.c
        moved = []
        for a in advances:
            topic, partition = a.tp
            if a.expected is None:
                stmt: sa.Insert | sa.Update = (
                    pg_insert(consumer_offsets)
                    .values(consumer=self.consumer, topic=topic, partition=partition, next_offset=a.next)
                    .on_conflict_do_nothing(constraint="pk_consumer_offsets")
                )
            else:
                stmt = (
                    sa.update(consumer_offsets)
                    .where(c.consumer == self.consumer, c.topic == topic, c.partition == partition,
                           c.next_offset == a.expected)
                    .values(next_offset=a.next, updated_at=sa.func.now())
                )  # fmt: skip
            if conn.execute(stmt.returning(c.next_offset)).first() is None:  # (rowcount is not reliable here)
                moved.append(a.tp)
        if moved:
            raise OffsetsMoved(moved)  # rolls the transaction back

    def refused(self, batch: Batch) -> list[Row]:
        """Each row on its own (a savepoint each) in a transaction rolled back: those the server refuses."""
        out: list[Row] = []
        with translated(), self.engine.connect() as conn, conn.begin() as tx:
            for row in batch.rows():
                savepoint = conn.begin_nested()
                try:
                    conn.execute(statement_of(row), [row.values()])
                except (sa.exc.IntegrityError, sa.exc.DataError):
                    out.append(row)
                savepoint.rollback()
            tx.rollback()
        return out

    def forget_consumer(self) -> int:
        """Delete this consumer's stored offsets (a finished backfill's); how many partitions it had."""
        c = consumer_offsets.c
        with translated(), self.engine.begin() as conn:
            return len(conn.execute(sa.delete(consumer_offsets).where(c.consumer == self.consumer)
                                    .returning(c.partition)).all())  # fmt: skip

    def prune(self, cutoff: datetime) -> int:
        """Delete the fine snapshots before ``cutoff``, a chunk per transaction (short locks); how many."""
        total = 0
        while True:
            with translated(), self.engine.begin() as conn:
                n = len(conn.execute(PRUNE, {"cutoff": cutoff, "chunk": PRUNE_CHUNK}).all())
            total += n
            if n < PRUNE_CHUNK:
                return total
