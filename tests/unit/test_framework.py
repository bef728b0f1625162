import copy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.framework import FrameworkError, load_framework, parse_framework
from tests.builders import framework_doc

PP59_DIMENSIONS = ["governance", "economy", "branding", "living", "society", "environment"]


def test_default_framework_follows_pp59_2022() -> None:
    fw = load_framework()
    assert [d.id for d in fw.dimensions] == PP59_DIMENSIONS
    assert all(len(d.elements) == 3 for d in fw.dimensions)
    assert all(len(e.indicators) >= 2 for d in fw.dimensions for e in d.elements)
    assert len(fw.indicators) >= 36
    assert [lv.name for lv in fw.levels] == [
        "Rintisan", "Terkelola", "Terdefinisi", "Terpadu dan Terukur", "Optimum",
    ]  # fmt: skip
    # The real BPS series are part of it, with the direction BPS gives them.
    assert fw.indicator("IPM").direction.value == "higher_is_better"
    assert fw.indicator("P0").direction.value == "lower_is_better"
    # Every normalisation and aggregation method is used, and live feeds exist.
    assert set(Counter(i.normalisation.method for i in fw.indicators)) == {"min_max", "target", "thresholds"}
    assert set(Counter(i.aggregation.method for i in fw.indicators)) == {
        "latest",
        "mean",
        "sum",
        "min",
        "max",
    }
    assert fw.indicator("ENV_PM25").aggregation.method == "mean"
    # Indicators know where they sit.
    assert fw.indicator("ENV_PM25").dimension == "environment"


def test_level_bands() -> None:
    fw = load_framework()
    assert fw.level_for(0.0).level == 1
    assert fw.level_for(0.99).level == 1
    assert fw.level_for(3.71).name == "Terpadu dan Terukur"  # Kota Bandung's published index
    assert fw.level_for(3.31).level == 4
    assert fw.level_for(5.0).name == "Optimum"


def _first_indicator(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["framework"]["dimensions"][0]["elements"][0]["indicators"][0]


def _reject(doc: dict[str, Any], tmp_path: Path) -> FrameworkError:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(FrameworkError) as exc:
        load_framework(path)
    assert str(path) in str(exc.value), "the error must name the file"
    return exc.value


def test_small_valid_document_loads() -> None:
    fw = parse_framework(framework_doc())
    assert fw.key == "tiny@1"
    assert fw.indicators[0].element == "public_services"


def test_rejects_duplicate_indicator_ids(tmp_path: Path) -> None:
    doc = framework_doc()
    el = doc["framework"]["dimensions"][0]["elements"][0]
    el["indicators"].append(copy.deepcopy(el["indicators"][0]))
    err = _reject(doc, tmp_path)
    assert "duplicate indicator id(s): GOV_UPTIME" in str(err)


def test_rejects_non_positive_weight_naming_the_key(tmp_path: Path) -> None:
    doc = framework_doc()
    _first_indicator(doc)["weight"] = 0
    err = _reject(doc, tmp_path)
    assert "dimensions['governance'].elements['public_services'].indicators['GOV_UPTIME'].weight" in str(err)
    assert "greater than 0" in str(err)


def test_rejects_element_without_indicators(tmp_path: Path) -> None:
    doc = framework_doc()
    doc["framework"]["dimensions"][0]["elements"][0]["indicators"] = []
    err = _reject(doc, tmp_path)
    assert "elements['public_services'].indicators" in str(err)
    assert "at least one indicator" in str(err)


@pytest.mark.parametrize("key", ["normalisation", "bounds"])
def test_rejects_inverted_bounds(tmp_path: Path, key: str) -> None:
    doc = framework_doc()
    ind = _first_indicator(doc)
    ind[key] = {**ind[key], "min": 100, "max": 90}
    err = _reject(doc, tmp_path)
    assert f"indicators['GOV_UPTIME'].{key}" in str(err)
    assert "inverted bounds" in str(err)


def test_rejects_thresholds_against_direction(tmp_path: Path) -> None:
    doc = framework_doc()
    ind = _first_indicator(doc)
    ind["direction"] = "lower_is_better"
    ind["normalisation"] = {"method": "thresholds", "thresholds": [1, 2, 3, 4, 5]}
    err = _reject(doc, tmp_path)
    assert "descend strictly when lower is better" in str(err)


def test_rejects_window_missing_for_mean(tmp_path: Path) -> None:
    doc = framework_doc()
    _first_indicator(doc)["aggregation"] = {"method": "mean"}
    err = _reject(doc, tmp_path)
    assert "aggregation" in str(err)
    assert "needs a window" in str(err)


def test_rejects_unknown_normalisation_and_unknown_key(tmp_path: Path) -> None:
    doc = framework_doc()
    _first_indicator(doc)["normalisation"] = {"method": "zscore"}
    _first_indicator(doc)["colour"] = "red"
    err = _reject(doc, tmp_path)
    assert "normalisation" in str(err)
    assert "indicators['GOV_UPTIME'].colour: Extra inputs are not permitted" in str(err)


def test_rejects_bad_level_bands(tmp_path: Path) -> None:
    doc = framework_doc()
    doc["framework"]["levels"][2]["min_score"] = 0.5
    assert "rise strictly" in str(_reject(doc, tmp_path))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("framework:\n  id: x\n  dimensions: [\n")
    with pytest.raises(FrameworkError) as exc:
        load_framework(path)
    assert "broken.yaml" in str(exc.value)
    assert "line 4" in str(exc.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="cannot read file"):
        load_framework(tmp_path / "nope.yaml")


def test_document_without_framework_key() -> None:
    with pytest.raises(FrameworkError, match="'framework' key"):
        parse_framework({"dimensions": []}, "x.yaml")
