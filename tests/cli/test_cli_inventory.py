from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from sharpeyes.cli.main import app
from tests.support.inventory import CAMERA_HEADER_ZH, CITY, Inventory, build_inventory

runner = CliRunner()


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build_inventory(seed=11, districts=2, townships=4, villages=5)


@pytest.fixture
def data_dir(tmp_path: Path, inventory: Inventory, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SHARPEYES_CONFIG", raising=False)
    areas = tmp_path / "areas.csv"
    areas.write_bytes(inventory.areas_csv())
    result = runner.invoke(app, ["areas", "import", str(areas), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert f"imported / 新增 {len(inventory.areas)}" in result.output
    return tmp_path / "d"


def _xlsx(path: Path, inventory: Inventory) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(CAMERA_HEADER_ZH))
    for row in inventory.rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def test_xlsx_with_chinese_headers_imports_like_csv(tmp_path: Path, data_dir: Path, inventory: Inventory) -> None:
    sheet = _xlsx(tmp_path / "台账.xlsx", inventory)
    dry = runner.invoke(app, ["cameras", "import", str(sheet), "--dry-run", "--json", "--data-dir", str(data_dir)])
    assert dry.exit_code == 0, dry.output
    first = runner.invoke(app, ["cameras", "import", str(sheet), "--json", "--data-dir", str(data_dir)])
    answer = json.loads(first.output[first.output.index("{") :])
    assert answer["imported"] == len(inventory.good_rows())
    assert {(r["row"], r["column"]) for r in answer["rejected"]} == set(inventory.bad_rows.items())
    listed = runner.invoke(app, ["cameras", "list", "--json", "--data-dir", str(data_dir)])
    assert len(json.loads(listed.output)) == len(inventory.good_rows())


def test_coverage_report_in_every_format(tmp_path: Path, data_dir: Path, inventory: Inventory) -> None:
    cameras_csv = tmp_path / "cameras.csv"
    cameras_csv.write_bytes(inventory.cameras_csv())
    assert runner.invoke(app, ["cameras", "import", str(cameras_csv), "--data-dir", str(data_dir)]).exit_code == 0
    expected, networked = inventory.expected_counts()
    base = ["coverage", "report", "--area", CITY, "--data-dir", str(data_dir)]

    as_json = json.loads(runner.invoke(app, [*base, "--format", "json"]).output)
    assert (as_json["cameras"], as_json["networked"], as_json["online"]) == (expected[CITY], networked[CITY], None)

    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*base, "--format", "csv"]).output)))
    assert rows[0]["code"] == CITY
    assert {row["code"]: int(row["cameras"]) for row in rows[1:]} == {
        code: expected[code] for code, level in inventory.levels.items() if level == "district"
    }

    table = runner.invoke(app, [*base, "--format", "table"])
    assert table.exit_code == 0
    assert "township" in table.output
    assert str(expected[CITY]) in table.output

    out = tmp_path / "report.xlsx"
    assert runner.invoke(app, [*base, "--format", "xlsx", "--output", str(out)]).exit_code == 0
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["覆盖 Figures", "规则 Rules", "缺口 Gaps"]
    assert workbook["覆盖 Figures"]["D2"].value == expected[CITY]

    unknown = runner.invoke(app, ["coverage", "report", "--area", "999999", "--data-dir", str(data_dir)])
    assert unknown.exit_code == 1
    assert "no area" in unknown.output

    snapshot = runner.invoke(app, ["coverage", "snapshot", "--data-dir", str(data_dir)])
    assert f"for {len(inventory.areas)} areas" in snapshot.output
