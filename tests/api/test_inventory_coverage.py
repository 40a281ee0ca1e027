"""A whole city through the API: area tree, sites, a few thousand cameras with planted mistakes, coverage figures
checked against values computed independently from the same inventory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.clock import utcnow
from tests.conftest import ADMIN_PASSWORD
from tests.support.inventory import CAMERA_HEADER_ZH, CITY, Inventory, build_inventory


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build_inventory()


def _upload(
    client: TestClient, auth: dict[str, str], path: str, data: bytes, name: str = "f.csv", **params: str
) -> Any:
    response = client.post(path, files={"file": (name, data)}, params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def city(client: TestClient, auth: dict[str, str], inventory: Inventory) -> Inventory:
    areas = _upload(client, auth, "/api/v1/areas/import", inventory.areas_csv())
    assert (areas["imported"], areas["rejected"]) == (len(inventory.areas), [])
    sites = _upload(client, auth, "/api/v1/sites/import", inventory.sites_csv())
    assert sites["imported"] == sum(len(places) for places in inventory.sites.values())
    return inventory


def test_camera_import_answers_row_by_row_and_is_idempotent(
    client: TestClient, auth: dict[str, str], city: Inventory
) -> None:
    data = city.cameras_csv("gb18030", CAMERA_HEADER_ZH)  # GBK-family bytes with Chinese headers
    dry = _upload(client, auth, "/api/v1/cameras/import", data, dry_run="true")
    assert dry["imported"] == len(city.good_rows())
    assert client.get("/api/v1/cameras", headers=auth).json() == [], "a dry run changes nothing"

    first = _upload(client, auth, "/api/v1/cameras/import", data)
    assert (first["imported"], first["updated"], first["unchanged"]) == (len(city.good_rows()), 0, 0)
    assert {(r["row"], r["column"]) for r in first["rejected"]} == set(city.bad_rows.items())
    assert all(r["reason"] for r in first["rejected"])

    again = _upload(client, auth, "/api/v1/cameras/import", city.cameras_csv())
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, len(city.good_rows()))

    changed = list(city.rows)
    renamed = [i for i, row in enumerate(changed) if i + 2 not in city.bad_rows and row[0]][:5]
    for i in renamed:  # rows with an id: a new name updates the same camera
        changed[i] = (changed[i][0], changed[i][1] + " 新", *changed[i][2:])
    moved = [i for i, row in enumerate(changed) if i + 2 not in city.bad_rows and not row[0]][:3]
    for i in moved:  # rows without an id: same name and area, a new source updates that camera
        changed[i] = (*changed[i][:7], "rtsp://10.9.9.9/new")
    edited = Inventory(areas=city.areas, rows=changed, bad_rows=city.bad_rows)
    third = _upload(client, auth, "/api/v1/cameras/import", edited.cameras_csv())
    assert (third["imported"], third["updated"]) == (0, len(renamed) + len(moved))
    cameras = client.get("/api/v1/cameras", params={"limit": 10_000}, headers=auth).json()
    assert len(cameras) == len(city.good_rows())


def test_coverage_figures_match_an_independent_count(client: TestClient, auth: dict[str, str], city: Inventory) -> None:
    _upload(client, auth, "/api/v1/cameras/import", city.cameras_csv())
    cameras, networked = city.expected_counts()
    report = client.get("/api/v1/coverage", params={"area": CITY}, headers=auth).json()
    assert report["area"] == {"code": CITY, "name": "江宁测试市", "level": "city"}
    assert (report["cameras"], report["networked"]) == (cameras[CITY], networked[CITY])
    assert report["networking_rate"] == pytest.approx(networked[CITY] / cameras[CITY])
    assert report["online"] == 0, "no camera here answers"

    levels = city.levels
    rules = {rule["target"]: rule for rule in report["rules"]}
    for target, minimum in (("township", 10), ("village", 3)):
        areas = [code for code, level in levels.items() if level == target]
        short = {code: minimum - cameras[code] for code in areas if cameras[code] < minimum}
        rule = rules[target]
        assert (rule["min_cameras"], rule["total"], rule["compliant"]) == (minimum, len(areas), len(areas) - len(short))
        assert {gap["code"]: gap["missing"] for gap in rule["gaps"]} == short
    for target in ("school", "kindergarten"):
        sites = city.expected_site_counts(target)
        rule = rules[target]
        assert (rule["total"], rule["compliant"]) == (len(sites), sum(1 for n in sites.values() if n >= 1))
        assert {gap["name"] for gap in rule["gaps"]} == {name for (_area, name), n in sites.items() if n < 1}

    children = {child["code"]: child for child in report["children"]}
    districts = [code for code, level in levels.items() if level == "district"]
    assert set(children) == set(districts)
    for code in districts:
        assert (children[code]["cameras"], children[code]["networked"]) == (cameras[code], networked[code])

    township = next(code for code, level in levels.items() if level == "township")
    one = client.get("/api/v1/coverage", params={"area": township}, headers=auth).json()
    assert one["cameras"] == cameras[township]
    assert {rule["target"]: rule["total"] for rule in one["rules"]}["township"] == 1


def test_empty_and_headerless_files_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    empty = client.post("/api/v1/cameras/import", files={"file": ("e.csv", b"")}, headers=auth)
    assert empty.status_code == 422
    assert empty.json()["code"] == "bad_table_file"
    headless = client.post("/api/v1/cameras/import", files={"file": ("h.csv", b"a,b\n1,2\n")}, headers=auth)
    assert headless.status_code == 422
    assert "missing column" in headless.json()["detail"]


def test_area_import_rejects_a_broken_tree(client: TestClient, auth: dict[str, str]) -> None:
    rows = (
        "code,name,level,parent_code\n"
        "320100,市,city,\n"
        "320102,区,district,320100\n"
        "320102001001,村挂区下,village,320102\n"  # a village whose parent is a district
        "3201020,短码,township,320102\n"  # wrong length
        "320102002,镇,township,320199\n"  # unknown parent
        "320102003,镇,township,320102\n"
        "320102003,重复,township,320102\n"  # duplicate code
        "320102004,级别错,county,320102\n"  # unknown level
        "330102005,跨区,township,320102\n"  # not under its parent
    ).encode()
    report = _upload(client, auth, "/api/v1/areas/import", rows)
    assert report["imported"] == 3
    assert {(r["row"], r["column"]) for r in report["rejected"]} == {
        (4, "parent_code"),
        (5, "code"),
        (6, "parent_code"),
        (8, "code"),
        (9, "level"),
        (10, "parent_code"),
    }
    assert client.get("/api/v1/areas", params={"parent": "320100"}, headers=auth).json()[0]["code"] == "320102"
    assert client.get("/api/v1/areas/320102003", headers=auth).json()["level"] == "township"
    assert client.get("/api/v1/areas/999", headers=auth).status_code == 404
    again = _upload(client, auth, "/api/v1/areas/import", rows)
    assert (again["imported"], again["unchanged"]) == (0, 3)


def test_mixed_encodings_line_by_line(client: TestClient, auth: dict[str, str]) -> None:
    _upload(client, auth, "/api/v1/areas/import", "code,name,level,parent_code\n320100,市,city,\n".encode())
    data = b"name,area_code\n" + "东门,320100\n".encode() + "西门,320100\n".encode("gbk") + b"\xff\xfe\xfd,320100\n"
    report = _upload(client, auth, "/api/v1/cameras/import", data)
    assert report["imported"] == 2
    assert [(r["row"], r["column"]) for r in report["rejected"]] == [(4, "*")]
    names = {camera["name"] for camera in client.get("/api/v1/cameras", headers=auth).json()}
    assert names == {"东门", "西门"}


def test_lines_that_are_not_csv_are_rejected_row_by_row(client: TestClient, auth: dict[str, str]) -> None:
    """Regression: a bare CR outside quotes (``\\r0``) or a cell past the csv module's size limit made the import
    answer 500 (csv.Error); now that line is rejected and the rest imported, and such a header refuses the file."""
    _upload(client, auth, "/api/v1/areas/import", "code,name,level,parent_code\n320100,市,city,\n".encode())
    data = b"name,area_code\n" + b"a\rb,320100\n" + b"x" * 200_000 + b",320100\n" + "东门,320100\n".encode()
    report = _upload(client, auth, "/api/v1/cameras/import", data)
    assert report["imported"] == 1
    assert [(r["row"], r["column"]) for r in report["rejected"]] == [(2, "*"), (3, "*")]
    assert "not CSV" in report["rejected"][0]["reason"]
    for path in ("/api/v1/cameras/import", "/api/v1/sites/import", "/api/v1/areas/import"):
        headless = client.post(path, files={"file": ("f.csv", b"\r0")}, headers=auth)
        assert headless.status_code == 422, headless.text
        assert headless.json()["code"] == "bad_table_file"


def test_history_keeps_one_row_per_day(
    client: TestClient, auth: dict[str, str], city: Inventory, runtime: Runtime
) -> None:
    services = runtime.services
    today = utcnow().date()
    services.coverage.snapshot_day(today - timedelta(days=1))
    _upload(client, auth, "/api/v1/cameras/import", city.cameras_csv())
    services.coverage.snapshot_day(today)
    history = client.get("/api/v1/coverage/history", params={"area": CITY, "days": 7}, headers=auth).json()
    assert [day["cameras"] for day in history] == [0, len(city.good_rows())]
    assert history[1]["date"] == today.isoformat()


def test_map_clusters_when_many(client: TestClient, auth: dict[str, str], city: Inventory) -> None:
    _upload(client, auth, "/api/v1/cameras/import", city.cameras_csv())
    placed = sum(1 for row in city.good_rows() if row[5])
    box = {"bbox": "118.0,31.0,120.0,33.0"}
    clustered = client.get("/api/v1/map/cameras", params={**box, "limit": 100}, headers=auth).json()
    assert clustered["clustered"] is True
    assert clustered["total"] == placed
    assert sum(f["properties"]["count"] for f in clustered["features"]) == placed
    assert len(clustered["features"]) <= 48 * 48
    few = client.get("/api/v1/map/cameras", params={"bbox": "118.5,31.8,118.52,31.82"}, headers=auth).json()
    assert few["clustered"] is False
    assert all({"id", "name", "status", "site_type"} <= set(f["properties"]) for f in few["features"])
    bad = client.get("/api/v1/map/cameras", params={"bbox": "1,2,3"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["code"] == "bad_bbox"


def test_uploads_over_the_limit_are_refused(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from sharpeyes.api.app import create_app
    from sharpeyes.core.config_file import load_settings

    monkeypatch.setenv("SHARPEYES_IMPORTS__MAX_UPLOAD_MB", "1")
    settings = load_settings(None, data_dir=runtime.settings.data_dir)
    with TestClient(create_app(settings, runtime.services)) as small:
        token = small.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        big = b"name,area_code\n" + b"x,320100\n" * 200_000
        response = small.post("/api/v1/cameras/import", files={"file": ("big.csv", big)}, headers=headers)
    assert response.status_code == 413
    assert "imports.max_upload_mb" in response.json()["detail"]
