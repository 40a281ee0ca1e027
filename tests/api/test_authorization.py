"""The authorisation matrix, generated from the OpenAPI document: every route × every role, signed in, gets 403
exactly when the role lacks the route's permission (a route missing from the table is admin-only, and the table
names no route that does not exist); a scoped role gets 404 for a camera outside its scope on every camera route,
exactly as for a missing camera, and lists leave it out."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from sharpeyes.api.access import ADMIN_ONLY, ROUTES
from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core import roles
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.tracks import TrackRecord
from tests.conftest import ADMIN_PASSWORD

PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/healthz")}
PASSWORD = "role-password-123"
AREAS = (
    "code,name,level,parent_code\n340200,芜湖市,city,\n340202,镜湖区,district,340200\n340203,弋江区,district,340200\n"
)
Platform = tuple[Runtime, TestClient, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, TestClient, dict[str, dict[str, str]]]]:
    """A platform with one user per role (scoped roles see district 340202 only) and cameras in and out of it."""
    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("authz") / "data")
    runtime = build_runtime(settings, with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    runtime.services.areas.import_table(io.BytesIO(AREAS.encode()), source_name="areas.csv")
    for role in roles.ROLES:
        if role != "admin":
            runtime.services.accounts.create_user("admin", role, PASSWORD, role, ("340202",))
    with TestClient(create_app(runtime.settings, runtime.services)) as client:
        headers = {}
        for role in roles.ROLES:
            username, password = ("admin", ADMIN_PASSWORD) if role == "admin" else (role, PASSWORD)
            token = client.post("/api/v1/auth/login", json={"username": username, "password": password}).json()
            headers[role] = {"Authorization": f"Bearer {token['access_token']}"}
        for camera_id, area in (("cam-in", "340202"), ("cam-out", "340203"), ("cam-matrix", "340202")):
            made = client.post("/api/v1/cameras", json={"id": camera_id, "name": camera_id, "source_url": None,
                                                       "area_code": area}, headers=headers["admin"])  # fmt: skip
            assert made.status_code == 201, made.text
        yield runtime, client, headers
    runtime.engine.dispose()


def _operations(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def _url(path: str, camera_id: str = "cam-matrix") -> str:
    """``path`` with its parameters filled (the matrix's requests really run: the admin's DELETE removes
    ``cam-matrix``, which only it uses)."""
    filled = path.replace("{camera_id}", camera_id)
    return re.sub(r"\{[a-z_]+\}", "1", filled)


def test_every_route_has_a_permission_and_the_table_names_only_real_routes(
    platform: Platform,
) -> None:
    _, client, _ = platform
    operations = set(_operations(client)) - PUBLIC
    assert operations - set(ROUTES) == set(), "routes without a permission (admin-only until given one)"
    assert set(ROUTES) - operations == set(), "permissions for routes that do not exist"


@pytest.mark.parametrize("role", list(roles.ROLES))
def test_each_role_is_refused_exactly_what_it_may_not_do(platform: Platform, role: str) -> None:
    _, client, headers = platform
    wrong = []
    for method, path in _operations(client):
        if (method, path) in PUBLIC or path.endswith(("/logout",)):
            continue
        permission = ROUTES.get((method, path), ADMIN_ONLY)
        allowed = permission is None or roles.allows(role, permission)
        answer = client.request(method, _url(path), headers=headers[role], json={})
        if (answer.status_code == 403) == allowed:
            wrong.append(f"{method} {path}: {answer.status_code} ({'allowed' if allowed else 'refused'} expected)")
    assert wrong == []


@pytest.mark.parametrize("role", sorted(set(roles.ROLES) - roles.UNSCOPED))
def test_a_camera_outside_the_scope_is_answered_like_a_missing_one(platform: Platform, role: str) -> None:
    _, client, headers = platform
    listed = [camera["id"] for camera in client.get("/api/v1/cameras", headers=headers[role]).json()]
    assert "cam-in" in listed
    assert "cam-out" not in listed
    for method, path in _operations(client):
        permission = ROUTES.get((method, path), ADMIN_ONLY)
        if "{camera_id}" not in path or permission is None or not roles.allows(role, permission):
            continue
        outside = client.request(method, _url(path, "cam-out"), headers=headers[role], json={})
        missing = client.request(method, _url(path, "no-such-camera"), headers=headers[role], json={})
        assert (outside.status_code, outside.json()["code"]) == (404, "camera_not_found"), f"{method} {path}"
        assert outside.json()["detail"].replace("cam-out", "X") == missing.json()["detail"].replace(
            "no-such-camera", "X"
        )


def test_searches_pictures_and_events_stay_inside_the_scope(platform: Platform) -> None:
    runtime, client, headers = platform
    now = datetime.now(UTC)
    picture = np.full((96, 48, 3), 40, dtype=np.uint8)
    kept = {
        camera_id: runtime.services.tracks.keep(
            TrackRecord(camera_id, "person", now - timedelta(minutes=5), now - timedelta(minutes=4), "red"), picture
        )
        for camera_id in ("cam-in", "cam-out")
    }
    for camera_id in ("cam-in", "cam-out"):
        runtime.services.events.record(Event(EventType.INTRUSION, now, f"intrusion at {camera_id}", camera_id))
    asked = {"text": "穿红衣服的人", "reason": "scope test"}
    for role, expected in (("admin", {"cam-in", "cam-out"}), ("investigator", {"cam-in"})):
        found = client.post("/api/v1/search", json=asked, headers=headers[role]).json()["results"]
        assert {hit["camera_id"] for hit in found} == expected, role
        events = client.get("/api/v1/events", headers=headers[role] if role == "admin" else headers["operator"]).json()
        assert {event["camera_id"] for event in events} == expected, role
    narrowed = client.post("/api/v1/search", json={**asked, "camera_ids": ["cam-out"]}, headers=headers["investigator"])
    assert narrowed.json()["results"] == [], "asking for an outside camera by name finds nothing"
    inside = client.get(f"/api/v1/tracks/{kept['cam-in']}/thumbnail.jpg", headers=headers["investigator"])
    outside = client.get(f"/api/v1/tracks/{kept['cam-out']}/thumbnail.jpg", headers=headers["investigator"])
    missing = client.get("/api/v1/tracks/999999/thumbnail.jpg", headers=headers["investigator"])
    assert inside.status_code == 200
    assert (outside.status_code, outside.json()["detail"]) == (404, f"no track {kept['cam-out']} / 找不到该轨迹")
    assert missing.json()["detail"] == "no track 999999 / 找不到该轨迹"


def test_the_map_shows_a_scoped_role_its_own_cameras_only(platform: Platform) -> None:
    runtime, client, headers = platform
    for camera_id in ("cam-in", "cam-out"):
        runtime.services.cameras.update(camera_id, {"longitude": 118.38, "latitude": 31.33})
    box = {"bbox": "118,31,119,32"}
    seen = {}
    for role in ("admin", "owner"):
        layer = client.get("/api/v1/map/cameras", params=box, headers=headers[role]).json()
        seen[role] = {feature["properties"].get("id") for feature in layer["features"]}
    assert {"cam-in", "cam-out"} <= seen["admin"]
    assert seen["owner"] == {"cam-in"}


def test_a_site_scope_shows_a_school_its_own_cameras(platform: Platform) -> None:
    runtime, client, headers = platform
    admin = headers["admin"]
    for camera_id, site in (("cam-gate", "弋江小学"), ("cam-square", "弋江广场")):
        made = client.post("/api/v1/cameras", json={"id": camera_id, "name": camera_id, "source_url": None,
                           "area_code": "340203", "site_name": site, "site_type": "school"}, headers=admin)  # fmt: skip
        assert made.status_code == 201, made.text
    school = next(site for site in client.get("/api/v1/sites", headers=admin).json() if site["name"] == "弋江小学")
    asked = {"username": "school", "password": PASSWORD, "role": "owner", "scope_sites": [school["id"]]}
    made = client.post("/api/v1/users", json=asked, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["scope_sites"] == [school["id"]]
    token = client.post("/api/v1/auth/login", json={"username": "school", "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert [camera["id"] for camera in client.get("/api/v1/cameras", headers=bearer).json()] == ["cam-gate"]
    assert client.get("/api/v1/cameras/cam-gate", headers=bearer).status_code == 200
    assert client.get("/api/v1/cameras/cam-square", headers=bearer).json()["code"] == "camera_not_found"
    created = runtime.services.audit.find(action="user.create", limit=1)[0]
    assert created.data["scope_sites"] == [school["id"]]


def test_coverage_figures_stay_inside_the_scope(platform: Platform) -> None:
    _, client, headers = platform
    for path in ("/api/v1/coverage", "/api/v1/coverage/history"):
        inside = client.get(path, params={"area": "340202"}, headers=headers["operator"])
        assert inside.status_code == 200, inside.text
        outside = client.get(path, params={"area": "340203"}, headers=headers["operator"])
        above = client.get(path, params={"area": "340200"}, headers=headers["operator"])
        missing = client.get(path, params={"area": "349999"}, headers=headers["operator"])
        same = missing.json()["detail"].replace("349999", "X")
        for code, refused in (("340203", outside), ("340200", above)):
            assert (refused.status_code, refused.json()["code"]) == (404, "area_not_found")
            assert refused.json()["detail"].replace(code, "X") == same, "answered like a missing area"
        assert client.get(path, params={"area": "340203"}, headers=headers["admin"]).status_code == 200


def test_an_api_key_has_its_own_role_and_scope_until_revoked(platform: Platform) -> None:
    _, client, headers = platform
    asked = {"name": "bureau report job", "role": "operator", "scope_cameras": ["cam-out"]}
    made = client.post("/api/v1/api-keys", json=asked, headers=headers["admin"])
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("sek_")
    bearer = {"Authorization": f"Bearer {key}"}
    assert [c["id"] for c in client.get("/api/v1/cameras", headers=bearer).json()] == ["cam-out"]
    assert client.get("/api/v1/users", headers=bearer).status_code == 403
    listed = client.get("/api/v1/api-keys", headers=headers["admin"]).json()
    assert [(k["name"], k["key"]) for k in listed] == [("bureau report job", None)], "the key is shown once"
    admin_key = client.post("/api/v1/api-keys", json={**asked, "role": "admin"}, headers=headers["admin"])
    assert admin_key.status_code == 422
    assert client.delete(f"/api/v1/api-keys/{made.json()['id']}", headers=headers["admin"]).status_code == 204
    assert client.get("/api/v1/cameras", headers=bearer).status_code == 401


def test_no_plan_keeps_recordings_past_the_longest_retention(platform: Platform) -> None:
    runtime, client, headers = platform
    longest = runtime.settings.recordings.max_retention_days
    plan = {"recording": {"mode": "continuous", "retention_days": longest + 1}}
    refused = client.patch("/api/v1/cameras/cam-in", json=plan, headers=headers["admin"])
    assert (refused.status_code, refused.json()["code"]) == (422, "retention_too_long")
    plan["recording"]["retention_days"] = longest
    assert client.patch("/api/v1/cameras/cam-in", json=plan, headers=headers["admin"]).status_code == 200
