"""Before and after a change, in one run: a benchmark at another commit, then at this checkout.

The machine is noisy, so a change is judged by running the same benchmark on the code before it and
on the code after it back to back, against the same broker, and comparing ratios to each run's own
baseline (the raw consumer, the Kafka hop). The other commit is checked out into a temporary git
worktree and run with this checkout's virtual environment (the lock file must be the same).

Usage: .venv/bin/python bench/compare.py --ref 127577c scoring -- --events 1000000 --rate 2000
       .venv/bin/python bench/compare.py --ref 127577c alerts -- --rate 2000 --probes 30
       .venv/bin/python bench/compare.py --ref HEAD~1 history -- --scores 1000000
Both tables and the two columns side by side are appended to bench/RESULTS.md (--no-record: not).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import RESULTS, log

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| (?P<k>.+?) \| (?P<v>.+?) \|$")


def run_bench(tree: Path, bench: str, args: list[str], env: dict[str, str]) -> list[tuple[str, str]]:
    """Run ``bench/<bench>.py`` of ``tree`` (its code, from its directory) and return its result rows."""
    script = tree / "bench" / f"{bench}.py"
    if not script.is_file():
        raise SystemExit(f"bench/{bench}.py does not exist at {tree.name}: pick a later --ref")
    cmd = [sys.executable, str(script), *args, "--no-record"]
    log(f"running {' '.join(cmd[1:])} in {tree}")
    # The working directory and PYTHONPATH put the tree's own packages first (``python -m`` workers too).
    proc = subprocess.Popen(cmd, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, stdout=subprocess.PIPE, text=True)
    rows: list[tuple[str, str]] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        m = ROW.match(line.strip())
        if m and m["k"] not in ("measure", "---"):
            rows.append((m["k"], m["v"]))
    if proc.wait() != 0:
        raise SystemExit(f"the benchmark failed in {tree} (exit {proc.returncode})")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Arguments after -- go to the bench.")
    parser.add_argument("--ref", required=True, help="the commit before the change (any git revision)")
    parser.add_argument("bench", choices=["scoring", "alerts", "ingest", "history"])
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    ours, _, theirs = (argv if argv is not None else sys.argv[1:]), None, []
    if "--" in ours:
        i = ours.index("--")
        ours, theirs = ours[:i], ours[i + 1 :]
    args = parser.parse_args(ours)
    rev = subprocess.run(["git", "rev-parse", "--short", args.ref], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()  # fmt: skip
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    # Both runs use this checkout's broker and state: the other tree has no Kafka jars of its own.
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
           "PANTAU_HOME": os.environ.get("PANTAU_HOME", str(ROOT / ".pantau"))}  # fmt: skip
    from pantau.config import PlatformSettings
    from pantau.kafka_local import LocalKafka, wait_for_broker

    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        LocalKafka.from_settings(PlatformSettings()).up()
    wait_for_broker(env["KAFKA_BOOTSTRAP_SERVERS"])
    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        tree = Path(tmp) / rev
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        (tree / ".pantau").mkdir()  # the benchmarks keep their worker logs and state there
        try:
            before = run_bench(tree, args.bench, theirs, env)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    after = run_bench(ROOT, args.bench, theirs, env)
    table = side_by_side(args.bench, rev, head, before, after, theirs)
    print(table)
    if not args.no_record:
        with RESULTS.open("a") as f:
            f.write(table)
    return 0


def side_by_side(bench: str, rev: str, head: str, before: list[tuple[str, str]], after: list[tuple[str, str]],
                 argv: list[str]) -> str:  # fmt: skip
    import platform
    from datetime import UTC, datetime

    got = dict(after)
    lines = [
        f"\n## {bench.capitalize()}, before ({rev}) and after ({head}) in one run, "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"bench/{bench}.py {' '.join(argv)}, the commit before first, then this one, back to back.",
        "",
        f"| measure | before ({rev}) | after ({head}) |",
        "|---|---|---|",
        *(f"| {k} | {v} | {got.pop(k, '(not measured)')} |" for k, v in before),
        *(f"| {k} | (not measured) | {v} |" for k, v in got.items()),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
