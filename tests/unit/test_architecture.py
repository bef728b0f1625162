"""The import graph of the code base (docs/architecture.md): imports run downwards only, no cycles,
no package holding more than about a third of the code.

Read from the source with ``ast`` (every import, also those inside functions), so a new arrow
upwards fails here before a reviewer has to find it.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "services", "pantau")
SERVICES = ("ingest", "scoring", "alerts", "history", "web")


def modules() -> dict[str, Path]:
    out = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = modules()


def imports_of(path: Path) -> Iterator[str]:
    """Every project module ``path`` imports (``from a.b import c`` names ``a.b.c`` when that is a module)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                     for a in node.names]  # fmt: skip
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield name


def layer(module: str) -> tuple[int, str]:
    """(rank, group) of a module: a module may import only from a lower rank, or from its own group."""
    parts = module.split(".")
    if parts[0] == "schemas":
        return 0, "schemas"
    if parts[0] == "pantau":
        return 5, "pantau"
    if len(parts) == 1:
        return 1, "services"
    if parts[1] == "runtime":
        return 1, "services.runtime"
    if parts[1] in SERVICES and len(parts) > 2 and parts[2] == "domain":
        return 2, f"services.{parts[1]}.domain"
    if parts[1] in SERVICES:
        return 3, f"services.{parts[1]}"
    return 4, f"services.{parts[1]}"  # services.ops: generators of deploy/ artefacts


EDGES = {(mod, dep) for mod, path in MODULES.items() for dep in imports_of(path) if dep != mod}


def test_the_graph_is_read() -> None:
    """A sanity check of the reader itself: these arrows exist and must be found."""
    assert ("services.scoring.config", "services.runtime.settings") in EDGES
    assert ("pantau.cli", "pantau.cli.kafka") in EDGES
    assert len(MODULES) > 80


def test_imports_run_downwards() -> None:
    upward = []
    for mod, dep in sorted(EDGES):
        (rank, group), (dep_rank, dep_group) = layer(mod), layer(dep)
        if group == dep_group:
            continue
        if dep_rank >= rank or (rank == 2 and dep_rank == 1):  # the domain is pure: no runtime (I/O, logs)
            upward.append(f"{mod} -> {dep}")
    assert not upward, "imports against the layers (docs/architecture.md):\n" + "\n".join(upward)


def test_services_do_not_import_each_other() -> None:
    across = [f"{m} -> {d}" for m, d in sorted(EDGES)
              if layer(m)[0] in (2, 3) and layer(d)[0] in (2, 3) and m.split(".")[1] != d.split(".")[1]]  # fmt: skip
    assert not across, "\n".join(across)


def test_no_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod, dep in EDGES:
        if dep in graph:
            graph[mod].add(dep)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # A package's __init__ re-exporting its own modules is not a cycle of meaning: leave those out.
    real = [c for c in cycles
            if not any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in itertools.pairwise(c))]  # fmt: skip
    assert not real, "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


def test_no_package_holds_more_than_a_third_of_the_code() -> None:
    lines: dict[str, int] = {}
    for mod, path in MODULES.items():
        parts = mod.split(".")
        package = ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 1 else parts[0]
        lines[package] = lines.get(package, 0) + len(path.read_text().splitlines())
    total = sum(lines.values())
    big = {p: f"{n / total:.0%}" for p, n in lines.items() if n > total / 3}
    assert not big, f"packages over a third of {total} lines: {big}"
