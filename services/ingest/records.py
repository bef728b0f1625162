"""The Kafka record of a valid event, and the service's name in dead-letter headers.

Shared by every door (HTTP, NGSI-LD notifications, the raw-topic validator, CSV imports), so that an
event is the same record whichever way it came in.
"""

from __future__ import annotations

from schemas.events import IndicatorEvent
from services.ingest.writer import Record

#: The service named in dead-letter headers (``pantau.dlq.service``).
SERVICE = "ingest"


def event_record(topic: str, event: IndicatorEvent) -> Record:
    """The Kafka record of a valid event: keyed by region code, the event's JSON as value."""
    return Record(topic, event.region_code.encode(), event.model_dump_json().encode())
