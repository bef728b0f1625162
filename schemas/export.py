"""JSON Schema export of the wire contracts, for publishers and for drift checks."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.alerts import AckRequest, AlertEvent
from schemas.events import IndicatorEvent
from schemas.framework import Framework
from schemas.masterplan import Masterplan
from schemas.scores import RegionScore

JSON_DIR = Path(__file__).parent / "json"

CONTRACTS: dict[str, type[BaseModel]] = {
    "indicator-event": IndicatorEvent,
    "region-score": RegionScore,
    "masterplan": Masterplan,
    "alert-event": AlertEvent,
    "ack-request": AckRequest,
    "framework": Framework,
}


def render(model: type[BaseModel]) -> str:
    """The JSON Schema of ``model`` as the text stored in the repo (stable key order, newline)."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[Path, str]:
    return {JSON_DIR / f"{name}.schema.json": render(model) for name, model in CONTRACTS.items()}


def write_all() -> list[Path]:
    """Write every schema file; return the ones whose content changed."""
    JSON_DIR.mkdir(exist_ok=True)
    changed = []
    for path, text in expected_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
