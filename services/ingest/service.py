"""The ingest service: its parts (built by bootstrap.py) and its life, started and stopped as one.

The HTTP app (web.py) and the validator-only process (server.py) both start it with :meth:`start`
and stop it with :meth:`stop`: the producer first up and last down, the raw-topic validator (when
configured) in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from services.ingest.config import IngestSettings
from services.ingest.consumer import ValidatorLoop
from services.ingest.domain.intake import Rules
from services.ingest.metrics import IngestMetrics
from services.ingest.publishers import PublisherStore
from services.ingest.submissions import Intake
from services.ingest.writer import KafkaWriter
from services.runtime import logs
from services.runtime.errors import ProcessingStopped
from services.runtime.ratelimit import RateLimiter

log = logs.get("pantau.ingest")


@dataclass
class IngestService:
    settings: IngestSettings
    metrics: IngestMetrics
    rules: Rules
    writer: KafkaWriter
    intake: Intake
    publishers: PublisherStore
    limiter: RateLimiter
    validator: ValidatorLoop | None
    #: Called once if the validator stops under the ``crash`` error policy: the process should end.
    on_validator_stopped: Callable[[ProcessingStopped], None] | None = None
    validator_error: ProcessingStopped | None = field(default=None, init=False)
    _validator_task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    async def start(self) -> None:
        """Start the producer, then the raw-topic validator if there is one."""
        await self.writer.start()
        if self.validator is not None:
            self._validator_task = asyncio.create_task(self.validator.run(), name="raw-validator")
            self._validator_task.add_done_callback(self._validator_done)

    async def stop(self) -> None:
        """Stop the validator, forget the writes in doubt, flush and close the producer."""
        task, self._validator_task = self._validator_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task])  # a failure of its own was logged by _validator_done
        await self.intake.close()
        await self.writer.stop()

    def _validator_done(self, task: asyncio.Task[None]) -> None:
        exc = None if task.cancelled() else task.exception()
        if exc is None:
            return
        log.error("raw-topic validator stopped", error=repr(exc))
        if isinstance(exc, ProcessingStopped):  # the crash policy: the process ends, the record is read again
            self.validator_error = exc
            if self.on_validator_stopped is not None:
                self.on_validator_stopped(exc)
