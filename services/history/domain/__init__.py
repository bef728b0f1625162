"""The history writer's pure core: which snapshots a score makes (downsampling), the rows each contract
maps to, and a batch of rows reduced to one per natural key. No I/O, no clock: times are passed in."""

from services.history.domain.batch import Batch
from services.history.domain.downsampling import Downsampling, closing_day, fine_cutoff, fine_slot, keeps_fine
from services.history.domain.records import ALERTS, PLANS, SCORES, TOPICS, DeadLetter, Decoded, decode
from services.history.domain.rows import (
    PlanRow,
    Row,
    SnapshotRow,
    Source,
    TransitionRow,
    plan_hash,
    plan_row,
    snapshot_rows,
    split_framework,
    transition_row,
)

__all__ = [
    "ALERTS",
    "PLANS",
    "SCORES",
    "TOPICS",
    "Batch",
    "DeadLetter",
    "Decoded",
    "Downsampling",
    "PlanRow",
    "Row",
    "SnapshotRow",
    "Source",
    "TransitionRow",
    "closing_day",
    "decode",
    "fine_cutoff",
    "fine_slot",
    "keeps_fine",
    "plan_hash",
    "plan_row",
    "snapshot_rows",
    "split_framework",
    "transition_row",
]
