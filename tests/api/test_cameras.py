from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from sharpeyes.cli.wiring import Runtime
from tests.support.clips import make_test_clip
from tests.support.waiting import wait_for


def _camera(client: TestClient, auth: dict[str, str], camera_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cameras/{camera_id}", headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_add_list_get_remove(client: TestClient, auth: dict[str, str], clip: Path) -> None:
    created = client.post("/api/v1/cameras", json={"name": "东门 East gate", "source_url": clip.as_uri()}, headers=auth)
    assert created.status_code == 201, created.text
    camera_id = created.json()["id"]
    assert [c["id"] for c in client.get("/api/v1/cameras", headers=auth).json()] == [camera_id]
    assert _camera(client, auth, camera_id)["name"] == "东门 East gate"
    assert client.delete(f"/api/v1/cameras/{camera_id}", headers=auth).status_code == 204
    gone = client.get(f"/api/v1/cameras/{camera_id}", headers=auth)
    assert gone.status_code == 404
    assert gone.json()["code"] == "camera_not_found"
    assert client.delete(f"/api/v1/cameras/{camera_id}", headers=auth).status_code == 404


def test_file_camera_goes_online_and_gives_fresh_snapshots(
    client: TestClient, auth: dict[str, str], clip: Path
) -> None:
    camera_id = client.post("/api/v1/cameras", json={"name": "sim", "source_url": clip.as_uri()}, headers=auth).json()[
        "id"
    ]
    wait_for(lambda: _camera(client, auth, camera_id)["status"] == "online", 10, "the camera to go online")

    def snapshot() -> tuple[dict[str, str], bytes] | None:
        answer = client.get(f"/api/v1/cameras/{camera_id}/snapshot.jpg", headers=auth)
        return (dict(answer.headers), answer.content) if answer.status_code == 200 else None

    headers, picture = wait_for(snapshot, 10, "a snapshot")
    assert headers["content-type"] == "image/jpeg"
    assert picture[:2] == b"\xff\xd8"
    assert headers["cache-control"] == "no-store"

    def newer() -> tuple[dict[str, str], bytes] | None:
        answer = snapshot()
        return answer if answer is not None and answer[0]["x-frame-time"] > headers["x-frame-time"] else None

    _, later = wait_for(newer, 5, "a newer snapshot")
    assert later != picture, "the picture moves"


def test_password_never_comes_back(client: TestClient, auth: dict[str, str]) -> None:
    body = {"name": "secret cam", "source_url": "rtsp://admin:hunter2@127.0.0.1:9/live"}
    created = client.post("/api/v1/cameras", json=body, headers=auth).json()
    listed = client.get("/api/v1/cameras", headers=auth).text
    assert created["source_url"] == "rtsp://admin:***@127.0.0.1:9/live"
    assert "hunter2" not in listed
    camera = wait_for(lambda: (c := _camera(client, auth, created["id"]))["status"] == "offline" and c, 10, "offline")
    assert "hunter2" not in str(camera)
    assert "refused" in camera["status_reason"]


def test_snapshot_without_a_picture_is_503_with_a_reason(client: TestClient, auth: dict[str, str]) -> None:
    body = {"name": "dark", "source_url": "rtsp://127.0.0.1:9/none"}
    camera_id = client.post("/api/v1/cameras", json=body, headers=auth).json()["id"]
    response = client.get(f"/api/v1/cameras/{camera_id}/snapshot.jpg", headers=auth)
    assert response.status_code == 503
    assert response.json()["code"] == "no_frame"
    assert "keyframe" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "code", "detail"),
    [
        ({}, 422, "invalid_request", "name"),
        ({"name": "x", "source_url": 5}, 422, "invalid_request", "source_url"),
        ({"name": "x", "source_url": "rtsp://h/a", "longitude": 118.8}, 422, "bad_position", "latitude"),
        (
            {"name": "x", "source_url": "rtsp://h/a", "longitude": 32.0, "latitude": 118.8},
            422,
            "bad_position",
            "swapped",
        ),
        ({"name": "x", "source_url": "rtsp://h/a", "area_code": "999999"}, 422, "unknown_area", "no area 999999"),
        ({"name": "x", "id": "34020000001180000001"}, 422, "bad_camera_id", "118 (NVR)"),
        ({"name": "x", "id": "3402000000132000001"}, 422, "bad_camera_id", "20 digits"),
        ({"name": "x", "source_url": "ftp://h/a"}, 422, "bad_source_url", "scheme"),
        ({"name": "x", "source_url": "rtsp:///nohost"}, 422, "bad_source_url", "no host"),
        ({"name": "x", "source_url": "file://relative.mp4"}, 422, "bad_source_url", "absolute path"),
        ({"name": "x", "source_url": "rtsp://u:pw@cam:abc/x"}, 422, "bad_source_url", "invalid port"),
        ({"name": "   ", "source_url": "rtsp://h/a"}, 422, "bad_camera_name", "name"),
        ({"name": "x", "source_url": "rtsp://h/a", "id": "has space"}, 422, "bad_camera_id", "id"),
        ({"name": "x", "source_url": "rtsp://h/a", "rtsp_transport": "sctp"}, 422, "invalid_request", "rtsp_transport"),
        ({"name": "x", "source_url": "rtsp://h/a", "colour": "red"}, 422, "invalid_request", "colour"),
    ],
)
def test_bad_camera_input(
    client: TestClient, auth: dict[str, str], body: dict[str, str], status: int, code: str, detail: str
) -> None:
    response = client.post("/api/v1/cameras", json=body, headers=auth)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    assert detail in problem["detail"]
    assert client.get("/api/v1/cameras", headers=auth).json() == []


def test_duplicate_name_and_id_are_conflicts(client: TestClient, auth: dict[str, str]) -> None:
    first = {"name": "gate", "source_url": "rtsp://127.0.0.1:9/a", "id": "34020000001320000001"}
    assert client.post("/api/v1/cameras", json=first, headers=auth).status_code == 201
    same_name = client.post("/api/v1/cameras", json={**first, "id": None}, headers=auth)
    assert same_name.status_code == 409
    assert same_name.json()["code"] == "camera_name_taken"
    assert "gate" in same_name.json()["detail"]
    same_id = client.post("/api/v1/cameras", json={**first, "name": "other"}, headers=auth)
    assert same_id.status_code == 409
    assert same_id.json()["code"] == "camera_id_taken"
    assert len(client.get("/api/v1/cameras", headers=auth).json()) == 1


def test_a_camera_without_source_is_built_but_not_networked(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/cameras", json={"name": "村委会 Village office"}, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["source_url"] is None
    assert created.json()["status"] == "not_networked"


def test_patch_changes_only_the_given_fields(client: TestClient, auth: dict[str, str], clip: Path) -> None:
    camera = client.post("/api/v1/cameras", json={"name": "gate"}, headers=auth).json()
    patched = client.patch(f"/api/v1/cameras/{camera['id']}", json={"source_url": clip.as_uri()}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "gate"
    wait_for(lambda: _camera(client, auth, camera["id"])["status"] == "online", 10, "online after a source is set")
    cleared = client.patch(f"/api/v1/cameras/{camera['id']}", json={"source_url": None}, headers=auth).json()
    assert cleared["status"] == "not_networked"
    bad = client.patch(f"/api/v1/cameras/{camera['id']}", json={"longitude": 200.0, "latitude": 30.0}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["code"] == "bad_position"
    assert client.patch("/api/v1/cameras/nope", json={"name": "x"}, headers=auth).status_code == 404


def test_unknown_api_path_is_a_problem_document(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/nothing-here", headers=auth)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_wrong_method_keeps_the_allow_header(client: TestClient, auth: dict[str, str]) -> None:
    response = client.put("/api/v1/cameras", headers=auth)
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.json()["code"] == "http_405"


def test_first_page_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_an_unwatched_camera_rests_as_idle_and_a_snapshot_wakes_it(
    client: TestClient, auth: dict[str, str], clip: Path, runtime: Runtime
) -> None:
    assert runtime.streams is not None
    camera_id = client.post("/api/v1/cameras", json={"name": "rest", "source_url": clip.as_uri()}, headers=auth).json()[
        "id"
    ]
    wait_for(lambda: _camera(client, auth, camera_id)["status"] == "online", 10, "checked: online")
    runtime.streams.tend(time.monotonic() + 60)  # nobody has used it for a minute
    idle = _camera(client, auth, camera_id)
    assert idle["status"] == "idle"
    assert "nobody is watching" in idle["status_reason"]
    assert idle["last_frame_at"] is not None
    health = client.get(f"/api/v1/cameras/{camera_id}/health", headers=auth).json()
    assert health["status"] == "idle"
    assert [e["status"] for e in health["history"]] == ["connecting", "online"], "resting is not an outage"
    snapshot = client.get(f"/api/v1/cameras/{camera_id}/snapshot.jpg", headers=auth)
    assert snapshot.status_code == 200, "a viewer wakes the camera and gets a picture in the same request"
    assert _camera(client, auth, camera_id)["status"] == "online"


def test_a_sub_stream_serves_walls_and_needs_a_main_stream(
    client: TestClient, auth: dict[str, str], clip: Path, tmp_path: Path
) -> None:
    small = make_test_clip(tmp_path / "sub.mp4", duration_s=20, size_wh=(160, 120))
    body = {"name": "two streams", "source_url": clip.as_uri(), "sub_source_url": small.as_uri()}
    camera = client.post("/api/v1/cameras", json=body, headers=auth).json()
    assert camera["sub_source_url"] == small.as_uri()
    sub = client.get(f"/api/v1/cameras/{camera['id']}/snapshot.jpg", params={"profile": "sub"}, headers=auth)
    assert sub.status_code == 200, sub.text
    assert Image.open(io.BytesIO(sub.content)).size == (160, 120)
    main = client.get(f"/api/v1/cameras/{camera['id']}/snapshot.jpg", headers=auth)
    assert Image.open(io.BytesIO(main.content)).size == (320, 240)
    lonely = client.post(
        "/api/v1/cameras", json={"name": "sub only", "sub_source_url": small.as_uri()}, headers=auth
    ).json()
    assert lonely["code"] == "sub_without_main"
    bad = client.patch(f"/api/v1/cameras/{camera['id']}", json={"sub_source_url": "ftp://x/y"}, headers=auth).json()
    assert (bad["status"], bad["code"]) == (422, "bad_source_url"), bad
    assert bad["detail"].startswith("sub_source_url:"), bad
