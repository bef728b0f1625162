"""One processing-error policy for every service: what a worker does with a record it cannot handle.

Modelled on quix-streams' error callbacks: the handler of one record raised (a bug, or input the
contracts let through). ``dlq`` writes the record as received to the service's dead-letter topic with
its reason and goes on; ``crash`` stops the worker (its offset is not committed, so the record is
read again after the fix); ``skip`` logs it with its traceback, counts it, and goes on. Records the
contracts refuse (schema, unknown region...) are dead letters under every policy: they are input
errors, not processing errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from schemas.dlq import INTERNAL_ERROR, dlq_headers
from services.runtime import logs

ErrorPolicy = Literal["dlq", "crash", "skip"]
ERROR_POLICIES: tuple[ErrorPolicy, ...] = ("dlq", "crash", "skip")

log = logs.get("pantau.errors")


class ProcessingStopped(RuntimeError):
    """The ``crash`` policy: a record could not be handled, and the worker stops rather than go past it."""


class Received(Protocol):
    """A record as a consumer read it (aiokafka's ConsumerRecord, faust's Message): what every service reads."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class FailedRecord:
    """Where a record that could not be handled came from, and what it was."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


SendDeadLetter = Callable[[bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Any]]


async def on_processing_error(
    policy: ErrorPolicy,
    record: FailedRecord,
    exc: BaseException,
    *,
    service: str,
    send_dead_letter: SendDeadLetter | None,
    count: Callable[[str], None] = lambda _policy: None,
) -> None:
    """Apply ``policy`` to ``record``, whose handler raised ``exc``.

    ``count(policy)`` is called once (the service's metric of processing errors). Raises
    :class:`ProcessingStopped` under ``crash``; under ``dlq`` without a dead-letter topic (None),
    the record is logged and skipped, and the log says so.
    """
    count(policy)
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset, "policy": policy}
    if policy == "crash":
        log.error("record.failed_stopping", **where, exc_info=exc)
        raise ProcessingStopped(f"{record.topic}[{record.partition}]@{record.offset}: {exc!r}") from exc
    if policy == "dlq" and send_dead_letter is not None:
        headers = dlq_headers(reason=INTERNAL_ERROR, detail=repr(exc), topic=record.topic,
                              partition=record.partition, offset=record.offset, service=service)  # fmt: skip
        log.error("record.failed_dead_lettered", **where, exc_info=exc)
        await send_dead_letter(record.key, record.value, headers)
        return
    log.error("record.failed_skipped", **where, exc_info=exc)
