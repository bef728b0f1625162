"""The error-line checker over a folder of logs (pantau/logcheck.py), on lines as the components write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau.logcheck import error_lines, is_error

# What the services write (services.runtime.logs: structlog JSON), faust's false alarm among them.
FAUST_STALL = (
    '{"event": "Stream has not started processing TP(topic=\'indicator-events\', partition=3) (started 5.02 minutes '
    'ago).\\n\\nThere are multiple possible explanations for this:", "level": "error", "logger": '
    '"faust.transport.drivers.aiokafka", "timestamp": "2026-12-01T20:20:30.001Z"}'
)
SCORING_INFO = '{"event": "scoring started", "level": "info", "logger": "pantau.scoring", "timestamp": "2026-12-01Z"}'
WARNING_ABOUT_ERRORS = '{"event": "ERROR budget 3 left", "level": "warning", "logger": "x", "timestamp": "t"}'


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (FAUST_STALL, True),
        (SCORING_INFO, False),
        (WARNING_ABOUT_ERRORS, False),  # a JSON line's level decides, not its words
        ('{"event": "boom", "level": "critical", "logger": "x"}', True),
        ('{"msg": "no level", "errors": 3}', False),  # a JSON line without a level (webhook log) is no error
        ("simulating 514 regions at 500 events/s into indicator-events; 26 drift", False),  # typer.echo
        ("Traceback (most recent call last):", True),
        ('  File "/work/main/services/scoring/app.py", line 12, in intake', False),  # counted once, at its head
        ('time=2026-12-01T20:00:00.000Z level=ERROR source=notify.go msg="Notify for alerts failed"', True),
        ('ts=2026-12-01T20:00:00.000Z caller=main.go:1 level=error msg="error reloading"', True),
        ('time=2026-12-01T20:00:00.000Z level=INFO msg="ERROR is a word here"', False),  # logfmt level decides
        ("2026-12-01T20:15:24.689+0000 [main] ERROR kafka.server.KafkaServer - fatal error during startup", True),
        ("2026-12-01T20:15:24.689+0000 [main] INFO kafka.server.KafkaServer - started (errors=0)", False),
        ("[2026-12-01 20:15:35,563] [5539] [ERROR] [^Worker]: Error: ConnectionError", True),  # faust's own format
        ("ERROR:root:could not bind :6066", True),
        ("CRITICAL:uvicorn.error:boom", True),
        ('INFO:     127.0.0.1:5555 - "GET /v1/ERRORS HTTP/1.1" 404', False),
        ("{not json but ERROR", True),
        ("", False),
    ],
)
def test_a_line_is_an_error_when_its_level_says_so(line: str, error: bool) -> None:
    assert is_error(line) is error


def test_error_lines_of_a_folder_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "scoring.log").write_text(f"{SCORING_INFO}\n{FAUST_STALL}\n{SCORING_INFO}\n")
    (tmp_path / "alerts.log").write_text("Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'a'\n")
    (tmp_path / "sinks.log").write_text(f"{SCORING_INFO}\n")
    (tmp_path / "webhooks.jsonl").write_text('{"level": "error"}\n')  # not a .log
    assert error_lines(tmp_path) == [
        "alerts.log:1: Traceback (most recent call last):",
        f"scoring.log:2: {FAUST_STALL}",
    ]


def test_a_clean_folder_has_no_error_lines(tmp_path: Path) -> None:
    (tmp_path / "scoring.log").write_text(f"{SCORING_INFO}\n{WARNING_ABOUT_ERRORS}\n")
    assert error_lines(tmp_path) == []
    assert error_lines(tmp_path / "missing") == []
