"""The history writer's settings (HISTORY_*), its composition root and its web port, without I/O."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from services.history.bootstrap import bootstrap
from services.history.config import HistorySettings
from services.history.web import WebServer


def test_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HISTORY_FINE_STEP", "HISTORY_FINE_RETENTION", "HISTORY_WEB_PORT", "HISTORY_GROUP_ID"):
        monkeypatch.delenv(name, raising=False)
    s = HistorySettings()
    assert (s.fine_step, s.fine_retention) == (timedelta(minutes=5), timedelta(days=30))
    assert (s.web_port, s.group_id, s.error_policy, s.max_batch) == (6068, "pantau-history", "dlq", 2000)


def test_history_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HISTORY_FINE_STEP": "PT15M", "HISTORY_FINE_RETENTION": "P90D", "HISTORY_WEB_PORT": "7068",
           "HISTORY_GROUP_ID": "history-b", "HISTORY_ERROR_POLICY": "crash", "HISTORY_TOPIC_PREFIX": "t-",
           "HISTORY_RETRY_MAX": "5"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = HistorySettings()
    assert (s.fine_step, s.fine_retention, s.web_port) == (timedelta(minutes=15), timedelta(days=90), 7068)
    assert (s.group_id, s.error_policy, s.topic("region-scores"), s.retry_max) == (
        "history-b", "crash", "t-region-scores", 5.0,
    )  # fmt: skip


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HISTORY_FINE_STEP", "00:00:07", "divide a day"),
    ("HISTORY_FINE_STEP", "PT0S", "at least a second"),
    ("HISTORY_FINE_RETENTION", "PT0S", "must be positive"),
    ("HISTORY_ERROR_POLICY", "ignore", "dlq"),
])  # fmt: skip
def test_bad_values_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        HistorySettings()


def test_bootstrap_builds_the_writer_without_touching_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PANTAU_DATABASE_URL", "postgresql://pantau:pw@db.example:5432/pantau")
    monkeypatch.setenv("HISTORY_TOPIC_PREFIX", "x-")
    history = bootstrap(HistorySettings(), registry=CollectorRegistry())
    assert history.writer.intake.kinds == {
        "x-region-scores": "region-scores", "x-maturity-alerts": "maturity-alerts",
        "x-masterplan-milestones": "masterplan-milestones",
    }  # fmt: skip
    assert history.engine.url.host == "db.example"
    assert history.writer.health()["status"] == "degraded"  # not started yet
    history.engine.dispose()


def test_the_web_port_serves_metrics_and_health() -> None:
    registry = CollectorRegistry()
    web = WebServer("127.0.0.1", 0, registry, lambda: {"status": "ok", "database_up": True})
    port = web.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "ok", "database_up": True}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=5)
        assert err.value.code == 404
        err.value.close()
    finally:
        web.stop()
