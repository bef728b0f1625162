"""The worker's tables as typed mappings: a key is the region code or id it encodes, a value the record.

faust holds them as bytes -> bytes (raw serializers: the changelogs are plain JSON). A value is
written as its model's JSON (``model_dump_json``), as the worker has always written it, so state on
disk and in the changelogs written before stays readable, and is read back as the model. The service
layer sees ``MutableMapping[str, V]``: a dict stands in for a table in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, MutableMapping, ValuesView
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from schemas.alerts import AlertEvent, EscalationLevel
from schemas.masterplan import Masterplan
from services.alerts.domain.delivery import LEVELS, AlertRecord, Outgoing
from services.alerts.domain.engine import RegionAlerts

V = TypeVar("V", bound=BaseModel)
STATE_TABLE = "alert-state"  # faust's router finds the worker holding a region by this table


class TypedTable(MutableMapping[str, V], Generic[V]):
    """A bytes -> bytes table seen as str -> ``V``."""

    def __init__(self, table: MutableMapping[bytes, bytes], decode: Callable[[bytes], V]) -> None:
        self.table = table
        self.decode = decode

    def __getitem__(self, key: str) -> V:
        return self.decode(self.table[key.encode()])

    def __setitem__(self, key: str, value: V) -> None:
        self.table[key.encode()] = value.model_dump_json().encode()

    def __delitem__(self, key: str) -> None:
        del self.table[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in list(self.table.keys()))

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.encode() in self.table

    def items(self) -> ItemsView[str, V]:
        return _Items(self)

    def values(self) -> ValuesView[V]:
        return _Values(self)

    def raw_items(self) -> list[tuple[bytes, bytes]]:
        return list(self.table.items())


class _Items(ItemsView[str, V]):
    """One pass over the table (the mixin's would read every value twice)."""

    _mapping: TypedTable[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        decode = self._mapping.decode
        for key, raw in self._mapping.raw_items():
            yield key.decode(), decode(raw)


class _Values(ValuesView[V]):
    _mapping: TypedTable[V]

    def __iter__(self) -> Iterator[V]:
        decode = self._mapping.decode
        for _, raw in self._mapping.raw_items():
            yield decode(raw)


def alert_record(raw: bytes) -> AlertRecord:
    """An alert's record; a record of the earlier dict layout (before AlertRecord) is read too."""
    try:
        return AlertRecord.model_validate_json(raw)
    except ValidationError:
        old = orjson.loads(raw)
        level = LEVELS[old.get("level", 0)] if isinstance(old.get("level", 0), int) else EscalationLevel.REGION
        alert = AlertEvent.model_validate(old["alert"])
        closed_at = alert.at.timestamp() if old.get("closed") else None
        return AlertRecord(region=old["region"], alert=alert, level=level, acked=old.get("acked", False),
                           fired_at=old.get("fired_at", alert.at.timestamp()), closed_at=closed_at)  # fmt: skip


@dataclass(frozen=True)
class Tables:
    """The four tables of the alerts worker, typed. Their names (and so their changelogs) are fixed."""

    plans: MutableMapping[str, Masterplan]  # region -> its plan (the latest on masterplan-milestones)
    states: MutableMapping[str, RegionAlerts]  # region -> its alerts and kept history
    deliveries: MutableMapping[str, AlertRecord]  # alert id -> its record (open, or closed a while)
    outbox: MutableMapping[str, Outgoing]  # Outgoing.key -> a notification to one destination, until sent

    NAMES = ("plans", STATE_TABLE, "deliveries", "outbox")  # the faust tables, in the order of the fields

    @classmethod
    def over(cls, plans: MutableMapping[bytes, bytes], states: MutableMapping[bytes, bytes],
             deliveries: MutableMapping[bytes, bytes], outbox: MutableMapping[bytes, bytes]) -> Tables:  # fmt: skip
        """The typed views of the raw tables."""
        return cls(TypedTable(plans, Masterplan.model_validate_json),
                   TypedTable(states, RegionAlerts.model_validate_json),
                   TypedTable(deliveries, alert_record), TypedTable(outbox, Outgoing.model_validate_json))  # fmt: skip
