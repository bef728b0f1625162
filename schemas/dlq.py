"""Dead-letter records: the record as received, plus headers that say why and where it came from."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.reasons import DEAD_LETTER_REASONS, INTERNAL_ERROR

__all__ = ["DEAD_LETTER_REASONS", "INTERNAL_ERROR", "dlq_headers", "read_headers"]

REASON = "pantau.dlq.reason"
DETAIL = "pantau.dlq.detail"
SOURCE_TOPIC = "pantau.dlq.source.topic"
SOURCE_PARTITION = "pantau.dlq.source.partition"
SOURCE_OFFSET = "pantau.dlq.source.offset"
SERVICE = "pantau.dlq.service"
AT = "pantau.dlq.at"

MAX_DETAIL = 1000


def dlq_headers(
    *, reason: str, detail: str, topic: str, partition: int, offset: int, service: str
) -> list[tuple[str, bytes]]:
    """Kafka headers of a dead-letter record (stable names; values are UTF-8 text).

    ``reason`` must be registered in schemas/reasons.py (ValueError otherwise): one registry, no drift.
    """
    if reason not in DEAD_LETTER_REASONS:
        raise ValueError(f"dead-letter reason {reason!r} is not registered in schemas/reasons.py")
    return [
        (REASON, reason.encode()),
        (DETAIL, detail[:MAX_DETAIL].encode()),
        (SOURCE_TOPIC, topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
        (SERVICE, service.encode()),
        (AT, datetime.now(UTC).isoformat().encode()),
    ]


def read_headers(headers: list[tuple[str, bytes]] | None) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (headers or [])}
