"""Records the worker cannot use: the shared error policy (services/runtime/errors.py) applied to alerts.

- A score or plan that its contract refuses is a dead letter (``alerts.dlq``, reason
  ``schema_invalid``; ``empty_value`` for a record without a value) under every policy: bad input.
- A handler that raises on a record is a processing error: ``ALERTS_ERROR_POLICY`` says dlq
  (``internal_error``), crash (:class:`~services.runtime.errors.ProcessingStopped`) or skip.
- Other records (transitions, forwarded acknowledgements: the alerts' own topics) are counted and
  logged, and skipped, as before.

Each is counted in ``pantau_alerts_messages_invalid_total`` by what was read (``score_invalid``...),
as before; dead letters also in ``pantau_alerts_dead_letters_total`` by reason, processing errors in
``pantau_alerts_processing_errors_total`` by policy.
"""

from __future__ import annotations

from pydantic import ValidationError

from schemas.dlq import REASON, dlq_headers
from schemas.reasons import EMPTY_VALUE, SCHEMA_INVALID
from services.alerts.metrics import AlertsMetrics
from services.alerts.service.ports import Received, where
from services.runtime import logs
from services.runtime.errors import ErrorPolicy, FailedRecord, SendDeadLetter, on_processing_error

log = logs.get("pantau.alerts")
SERVICE = "alerts"


class BadRecords:
    def __init__(self, policy: ErrorPolicy, metrics: AlertsMetrics, send_dead_letter: SendDeadLetter) -> None:
        self.policy = policy
        self.metrics = metrics
        self._send = send_dead_letter

    def unreadable(self, record: Received, label: str, exc: ValidationError) -> None:
        """Counted and logged with where it is; nothing else."""
        self.metrics.invalid.labels(label).inc()
        log.error("alerts.record_invalid", reason=label, where=where(record), error=str(exc)[:500])

    async def refused(self, record: Received, label: str, exc: ValidationError) -> None:
        """Its contract refuses it: counted, logged, and a dead letter as received (nothing is lost: a warning)."""
        self.metrics.invalid.labels(label).inc()
        log.warning("alerts.record_dead_lettered", reason=label, where=where(record), error=str(exc)[:500])
        reason = EMPTY_VALUE if record.value is None else SCHEMA_INVALID
        headers = dlq_headers(reason=reason, detail=str(exc), topic=record.topic, partition=record.partition,
                              offset=record.offset, service=SERVICE)  # fmt: skip
        await self.dead_letter(record.key, record.value, headers)

    async def failed(self, record: Received, exc: Exception) -> None:
        """Its handler raised: the policy. Raises ProcessingStopped under ``crash``."""
        failed = FailedRecord(record.topic, record.partition, record.offset, record.key, record.value)
        await on_processing_error(self.policy, failed, exc, service=SERVICE, send_dead_letter=self.dead_letter,
                                  count=lambda policy: self.metrics.processing_errors.labels(policy).inc())  # fmt: skip

    async def dead_letter(self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        await self._send(key, value, headers)
        self.metrics.dead_letters.labels(dict(headers)[REASON].decode()).inc()
