"""Each snapshot's six dimension scores as a small object, for the readers: ``dimension_scores``.

A reader of a series or a ranking needs each dimension's score, not its elements: ``dimensions`` (about 2 KB
a row with the elements) cost most of a query's time to send and decode (bench/RESULTS.md, history query).
``dimension_scores`` is ``{"governance": 3.1, ...}`` (null where a dimension has too little data), a stored
generated column of ``dimensions``, so every writer (the history writer, the demo's seed, a backfill) fills
it without knowing of it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION pantau_dimension_scores(dimensions jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
    SELECT coalesce(jsonb_object_agg(d ->> 'dimension_id', d -> 'score'), '{}'::jsonb)
    FROM jsonb_array_elements(dimensions) AS d
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(
        "ALTER TABLE score_snapshots ADD COLUMN dimension_scores jsonb "
        "GENERATED ALWAYS AS (pantau_dimension_scores(dimensions)) STORED"
    )
    op.execute("COMMENT ON COLUMN score_snapshots.dimension_scores IS 'Dimension id -> score 0-5 (from dimensions).'")


def downgrade() -> None:
    op.execute("ALTER TABLE score_snapshots DROP COLUMN dimension_scores")
    op.execute("DROP FUNCTION pantau_dimension_scores(jsonb)")
