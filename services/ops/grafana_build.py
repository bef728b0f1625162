"""Write the boards of services/ops/grafana_boards.py as JSON into deploy/grafana/dashboards/.

    pantau grafana build           # (re)write the files
    pantau grafana build --check   # exit 1 and name the files that differ from the code

The JSON files are committed: Grafana's file provisioning and ``pantau grafana push`` read them, and
tests/unit/test_grafana_boards.py fails when they drift from the code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from services.ops.grafana_boards import BOARDS
from services.runtime.settings import REPO_ROOT

#: Where the boards' JSON lives in the checkout (provisioned by deploy/grafana/provisioning, shipped to k8s).
DASHBOARDS_DIR = REPO_ROOT / "deploy" / "grafana" / "dashboards"


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files(directory: Path = DASHBOARDS_DIR) -> dict[Path, str]:
    """Each board's file and the text it should hold."""
    return {directory / name: render(build()) for name, build in BOARDS.items()}


def stale_files(directory: Path = DASHBOARDS_DIR) -> list[Path]:
    """Files that are missing or differ from the code, and JSON files no board writes any more."""
    expected = expected_files(directory)
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in sorted(directory.glob("*.json")) if p not in expected]
    return stale + extra


def write_all(directory: Path = DASHBOARDS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in expected_files(directory).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when the files drift")
    parser.add_argument("--out", type=Path, default=DASHBOARDS_DIR, help="directory of the JSON files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for p in stale:
            print(f"drift: {p} (run: pantau grafana build)")
        return 1 if stale else 0
    for p in write_all(args.out):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
