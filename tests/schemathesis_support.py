"""Schemathesis's own engine (what ``schemathesis run`` does) over an OpenAPI document, its findings collected:
its pytest loader for fixtures does not work with pytest 9."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from schemathesis.engine import from_schema
from schemathesis.engine.events import FatalError, NonFatalError, ScenarioFinished
from schemathesis.schemas import BaseSchema


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)  # scenarios run per operation
    checked: Counter[str] = field(default_factory=Counter)  # checks run per check name

    def report(self) -> str:
        return "\n\n".join(dict.fromkeys(self.failures))


def run_all_phases(schema: BaseSchema) -> Findings:
    """Every phase (examples, coverage, fuzzing, stateful) and every check the schema's config enables."""
    found = Findings()
    for event in from_schema(schema).execute():
        if isinstance(event, FatalError | NonFatalError):
            found.failures.append(f"{type(event).__name__}: {getattr(event, 'info', None) or event}")
        if not isinstance(event, ScenarioFinished):
            continue
        found.operations[event.recorder.label] += 1
        for nodes in event.recorder.checks.values():
            for node in nodes:
                found.checked[node.name] += 1
                if node.failure_info is not None:
                    f = node.failure_info.failure
                    found.failures.append(f"{event.recorder.label} [{node.name}] {f.title}: {f.message}\n"
                                          f"{node.failure_info.code_sample}")  # fmt: skip
    return found
