"""Score snapshots the demo synthesised are marked: ``simulated`` (the seeded past of ``make run``).

A simulated closing snapshot was not scored from any event: ``pantau history seed-demo`` made it from the
BPS baselines (IPM and P0 are real, the other indicators drawn around a per-region quality). Every
reader shows the flag; a live or backfilled snapshot of the same day replaces a simulated one, never
the other way round.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "score_snapshots",
        sa.Column("simulated", sa.Boolean, nullable=False, server_default=sa.false(),
                  comment="Synthesised by the demo's seeding, not scored from events."),
    )  # fmt: skip
    # The latest closing snapshot per region on or before a date (rankings as of a day), per framework.
    op.create_index(
        "ix_score_snapshots_framework_day", "score_snapshots",
        ["framework_id", "framework_version", "region_code", "day"],
        postgresql_where=sa.text("resolution = 'day'"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_score_snapshots_framework_day", table_name="score_snapshots")
    op.drop_column("score_snapshots", "simulated")
