"""The history store's first schema: score snapshots, alert transitions, plan versions, consumer offsets.

Rows are keyed by their natural key, so a writer replaying a topic from an older offset upserts the same
rows again (idempotent); ``consumer_offsets`` is committed in the same transaction as the rows it covers.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REGION_CODE = r"region_code ~ '^[0-9]{2}\.[0-9]{2}$'"


def _source() -> list[sa.Column[Any]]:
    """Where the row came from on its topic (the record it was written from)."""
    return [
        sa.Column("source_partition", sa.Integer, nullable=True),
        sa.Column("source_offset", sa.BigInteger, nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    # One RegionScore at one resolution: 'fine' (every step of the recent window) or 'day' (the closing
    # snapshot of the region's local calendar day, kept for ever).
    op.create_table(
        "score_snapshots",
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("province_code", sa.Text, nullable=False),
        sa.Column("framework_id", sa.Text, nullable=False),
        sa.Column("framework_version", sa.Text, nullable=False),
        sa.Column("resolution", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, comment="RegionScore.evaluated_at"),
        sa.Column("day", sa.Date, nullable=True, comment="The region's local day of a 'day' snapshot."),
        sa.Column("index", sa.Float, nullable=True, comment="Maturity index 0-5; NULL: not enough data."),
        sa.Column("level", sa.SmallInteger, nullable=True),
        sa.Column("level_name", sa.Text, nullable=True),
        sa.Column("coverage", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("dimensions", JSONB, nullable=False, comment="The six DimensionScores with their elements."),
        sa.Column("events_applied", sa.BigInteger, nullable=False, server_default="0"),
        *_source(),
        sa.PrimaryKeyConstraint(
            "region_code", "framework_id", "framework_version", "resolution", "at", name="pk_score_snapshots"
        ),
        sa.CheckConstraint("resolution IN ('fine', 'day')", name="ck_score_snapshots_resolution"),
        sa.CheckConstraint("(resolution = 'day') = (day IS NOT NULL)", name="ck_score_snapshots_day"),
        sa.CheckConstraint(REGION_CODE, name="ck_score_snapshots_region_code"),
        sa.CheckConstraint('"index" IS NULL OR "index" BETWEEN 0 AND 5', name="ck_score_snapshots_index"),
        sa.CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="ck_score_snapshots_level"),
        sa.CheckConstraint("coverage BETWEEN 0 AND 1", name="ck_score_snapshots_coverage"),
    )
    # A region's series by time (across framework versions).
    op.create_index("ix_score_snapshots_region_at", "score_snapshots", ["region_code", "resolution", "at"])
    # One closing snapshot per region, framework version and day; all regions at a date.
    op.create_index(
        "uq_score_snapshots_region_day", "score_snapshots",
        ["region_code", "framework_id", "framework_version", "day"],
        unique=True, postgresql_where=sa.text("resolution = 'day'"),
    )  # fmt: skip
    op.create_index(
        "ix_score_snapshots_day", "score_snapshots", ["day", "region_code"],
        postgresql_where=sa.text("resolution = 'day'"),
    )  # fmt: skip
    # All regions at a time in the recent window; pruning fine snapshots older than the window.
    op.create_index(
        "ix_score_snapshots_fine_at", "score_snapshots", ["at"], postgresql_where=sa.text("resolution = 'fine'")
    )

    # Every AlertEvent, once (transition_id is deterministic per transition).
    op.create_table(
        "alert_transitions",
        sa.Column("transition_id", sa.Text, nullable=False),
        sa.Column("alert_id", sa.Text, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("province_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("escalation", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSONB, nullable=False, comment="The AlertEvent as published."),
        *_source(),
        sa.PrimaryKeyConstraint("transition_id", name="pk_alert_transitions"),
        sa.CheckConstraint(REGION_CODE, name="ck_alert_transitions_region_code"),
    )
    op.create_index("ix_alert_transitions_region_at", "alert_transitions", ["region_code", "at"])
    op.create_index("ix_alert_transitions_alert_at", "alert_transitions", ["alert_id", "at"])
    op.create_index("ix_alert_transitions_at", "alert_transitions", ["at"])

    # Every version of every region's masterplan: a Masterplan has no version number, so a version is
    # the hash of its content (sha256 of its canonical JSON).
    op.create_table(
        "plan_versions",
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("plan_id", sa.Text, nullable=False),
        sa.Column("plan_hash", sa.Text, nullable=False),
        sa.Column("framework_id", sa.Text, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, comment="First seen on the topic."),
        sa.Column("payload", JSONB, nullable=False, comment="The Masterplan as published."),
        *_source(),
        sa.PrimaryKeyConstraint("region_code", "plan_id", "plan_hash", name="pk_plan_versions"),
        sa.CheckConstraint(REGION_CODE, name="ck_plan_versions_region_code"),
    )
    op.create_index("ix_plan_versions_region_received", "plan_versions", ["region_code", "received_at"])

    # The next offset to read per topic partition, committed with the rows written from it.
    op.create_table(
        "consumer_offsets",
        sa.Column("consumer", sa.Text, nullable=False, comment="The writer's name (one per consumer group)."),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("consumer", "topic", "partition", name="pk_consumer_offsets"),
        sa.CheckConstraint("partition >= 0 AND next_offset >= 0", name="ck_consumer_offsets_non_negative"),
    )


def downgrade() -> None:
    for table in ("consumer_offsets", "plan_versions", "alert_transitions", "score_snapshots"):
        op.drop_table(table)
