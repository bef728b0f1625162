import json
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from pantau.cli import app

runner = CliRunner()


def _all_command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "pantau")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_lists_the_expected_commands() -> None:
    names = {" ".join(p) for p in _all_command_paths()}
    for cmd in (
        "kafka up",
        "kafka down",
        "kafka status",
        "topics create",
        "regions list",
        "framework show",
        "run",
    ):
        assert cmd in names


def test_regions_list_by_province_as_json() -> None:
    result = runner.invoke(app, ["regions", "list", "--province", "32", "--json"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 27
    assert {"code": "32.73", "name": "Kota Bandung"}.items() <= next(r for r in rows if r["code"] == "32.73").items()


def test_regions_list_unknown_province_is_an_error() -> None:
    result = runner.invoke(app, ["regions", "list", "--province", "99"])
    assert result.exit_code == 1
    assert "unknown province code '99'" in result.output


def test_framework_show_prints_dimensions_and_json() -> None:
    result = runner.invoke(app, ["framework", "show"])
    assert result.exit_code == 0
    for dim in ("governance", "economy", "branding", "living", "society", "environment"):
        assert f"\n{dim} - " in result.stdout
    as_json = json.loads(runner.invoke(app, ["framework", "show", "--json"]).stdout)
    assert as_json["id"] == "pp59_2022"


def test_framework_show_bad_file_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "fw.yaml"
    bad.write_text(
        "framework:\n  id: x\n  version: '1'\n  title: t\n  minimum_coverage: 2\n  levels: []\n  dimensions: []\n"
    )
    result = runner.invoke(app, ["framework", "show", "--file", str(bad)])
    assert result.exit_code == 1
    assert str(bad) in result.output
    assert "framework.minimum_coverage" in result.output


def test_schemas_export_check_passes_on_the_repo() -> None:
    assert runner.invoke(app, ["schemas", "export", "--check"]).exit_code == 0
