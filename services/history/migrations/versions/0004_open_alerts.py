"""The alerts open now, read from one index: each alert's transitions newest first, with their state.

``GET /v1/alerts`` takes every alert's newest transition (``DISTINCT ON (alert_id) ... ORDER BY alert_id,
at DESC, transition_id``) and keeps the open ones. ``ix_alert_transitions_alert_latest`` is in that order
and carries the state, province and region, so the newest transitions are read from the index alone (an
index-only scan, no sort, no table row) and only the open alerts' events are fetched. It replaces
``ix_alert_transitions_alert_at`` (alert, at), which it serves too: one alert's transitions in either order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_alert_transitions_alert_latest", "alert_transitions",
        ["alert_id", sa.text("at DESC"), "transition_id"],
        postgresql_include=["state", "province_code", "region_code"],
    )  # fmt: skip
    op.drop_index("ix_alert_transitions_alert_at", table_name="alert_transitions")


def downgrade() -> None:
    op.create_index("ix_alert_transitions_alert_at", "alert_transitions", ["alert_id", "at"])
    op.drop_index("ix_alert_transitions_alert_latest", table_name="alert_transitions")
