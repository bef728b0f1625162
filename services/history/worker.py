"""The history writer's entrypoint: ``run_worker`` runs one writer until SIGTERM/SIGINT.

On a signal the writer finishes the batch in flight (its transaction commits or not), leaves the group
and closes; a second signal does not cut that short (a SIGKILL does, and loses nothing: the rows and
offsets of an unfinished transaction are simply not there).
"""

from __future__ import annotations

import asyncio
import signal

from services.history.bootstrap import History, bootstrap
from services.history.config import HistorySettings
from services.runtime import logs
from services.runtime.errors import ProcessingStopped

log = logs.get("pantau.history")


def run_worker(settings: HistorySettings, log_format: str = "auto") -> None:
    """Run one writer (migrations applied first, waiting for the database if it is down)."""
    logs.configure(settings.log_level, log_format)
    history = bootstrap(settings)
    try:
        asyncio.run(serve(history))
    except ProcessingStopped as exc:  # HISTORY_ERROR_POLICY=crash: logged with its record already
        raise SystemExit(f"history writer stopped: {exc}") from exc
    finally:
        # Stopped (asyncio.run has put the default handlers back): a second signal, e.g. a supervisor's
        # SIGTERM after the terminal's SIGINT, does not cut the interpreter's exit short.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)


async def serve(history: History) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, history.writer.stop)
    port = history.web.start()
    log.info("history.web", url=f"http://{history.settings.web_host}:{port}", database=history.settings.safe_url)
    try:
        await history.writer.run()
    finally:
        history.web.stop()
        history.engine.dispose()
