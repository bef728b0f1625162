"""The error lines of a folder of logs (``.pantau/logs/*.log`` under ``pantau run``), to count them.

The services write one JSON object a line (``services.runtime.logs``: ``"level": "error"``). Anything else in
those files is plain text: what a program wrote before its logging was set up, a Python traceback,
Prometheus and Alertmanager (logfmt, ``level=error``), a Java or default Python logging format
(``ERROR``). A line is an error when its JSON level, its logfmt level, or an upper-case level word
says so, or when it starts a traceback. Continuation lines of a multi-line message are not counted.

``python -m pantau.logcheck [DIR]`` (default: ``$PANTAU_HOME/logs``) prints them and exits 1 when there are any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import orjson

ERROR_LEVELS = frozenset({"error", "err", "exception", "critical", "crit", "fatal", "panic", "alert", "emerg"})
_LOGFMT_LEVEL = re.compile(r'(?:^|\s)level="?(\w+)"?(?:\s|$)', re.IGNORECASE)
_LEVEL_WORD = re.compile(r"(?<![\w.-])(?:ERROR|CRITICAL|FATAL)(?![\w.-])")
_TRACEBACK = "Traceback (most recent call last):"


def is_error(line: str) -> bool:
    """Whether one log line reports an error (see the module's docstring)."""
    text = line.strip()
    if text.startswith("{"):
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            level = record.get("level", record.get("levelname"))
            return isinstance(level, str) and level.lower() in ERROR_LEVELS
    if text.startswith(_TRACEBACK):
        return True
    if m := _LOGFMT_LEVEL.search(text):
        return m[1].lower() in ERROR_LEVELS
    return _LEVEL_WORD.search(text) is not None


def error_lines(log_dir: Path, pattern: str = "*.log") -> list[str]:
    """Every error line of the files ``pattern`` matches in ``log_dir``, as ``name:line: text``, in file order."""
    found = []
    for path in sorted(log_dir.glob(pattern)):
        with path.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, start=1):
                if is_error(line):
                    found.append(f"{path.name}:{n}: {line.rstrip()}")
    return found


def main(argv: list[str]) -> int:
    from pantau.config import PlatformSettings

    log_dir = Path(argv[0]) if argv else PlatformSettings().home / "logs"
    lines = error_lines(log_dir)
    for line in lines:
        print(line)
    print(f"{len(lines)} error line(s) in {log_dir}", file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
