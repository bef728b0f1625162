"""What the benchmarks share: progress lines, the machine line and appending to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def report(title: str, setup: str, rows: list[tuple[str, str]], record: bool) -> None:
    """Print a results table (and append it to bench/RESULTS.md when ``record``)."""
    lines = [
        f"\n## {title}, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; {setup}",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
    ]
    print("\n".join(lines))
    if record:
        with RESULTS.open("a") as f:
            f.write("\n".join(lines) + "\n")
