from __future__ import annotations

import io
import json
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.waiting import wait_for


def _online_camera(client: TestClient, auth: dict[str, str], clip: Path) -> str:
    camera_id: str = client.post(
        "/api/v1/cameras", json={"name": "live", "source_url": clip.as_uri()}, headers=auth
    ).json()["id"]
    wait_for(
        lambda: client.get(f"/api/v1/cameras/{camera_id}", headers=auth).json()["status"] == "online", 10, "online"
    )
    return camera_id


def test_live_feed_starts_at_a_keyframe_and_decodes(client: TestClient, auth: dict[str, str], clip: Path) -> None:
    camera_id = _online_camera(client, auth, clip)
    token = auth["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        start = socket.receive_json()
        assert start["type"] == "start"
        assert start["mime"].startswith('video/mp4; codecs="avc1.')
        assert (start["width"], start["height"]) == (320, 240)
        init = socket.receive_bytes()
        fragments = [socket.receive_bytes() for _ in range(15)]
    assert init[4:8] == b"ftyp"
    assert all(fragment[4:8] == b"moof" for fragment in fragments)
    with av.open(io.BytesIO(init + b"".join(fragments)), "r") as container:
        assert len(list(container.decode(video=0))) == 15, "every fragment is one decodable frame"


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({}, "bad_token"),
        ({"token": "forged"}, "bad_token"),
        ("not json", "bad_hello"),
    ],
)
def test_live_feed_needs_a_valid_token(
    client: TestClient, auth: dict[str, str], clip: Path, hello: object, code: str
) -> None:
    camera_id = _online_camera(client, auth, clip)
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live") as socket:
        socket.send_text(hello if isinstance(hello, str) else json.dumps(hello))
        answer = socket.receive_json()
        assert answer == {"type": "error", "code": code, "detail": answer["detail"]}
        with pytest.raises(WebSocketDisconnect):
            socket.receive_bytes()


def test_live_feed_of_an_unknown_camera(client: TestClient, auth: dict[str, str]) -> None:
    token = auth["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect("/api/v1/cameras/nope/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        assert socket.receive_json()["code"] == "camera_not_found"


def test_quality_diagnosis_on_demand_and_in_health(client: TestClient, auth: dict[str, str], clip: Path) -> None:
    camera_id = _online_camera(client, auth, clip)
    response = client.post(f"/api/v1/cameras/{camera_id}/quality", headers=auth)
    assert response.status_code == 200, response.text
    result = response.json()
    names = {check["name"] for check in result["checks"]}
    assert names == {"signal", "frozen", "blur", "occlusion", "colour_cast", "dark", "bright"}
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["signal"]["passed"]
    assert checks["frozen"]["passed"], "the generated scene moves"
    health = client.get(f"/api/v1/cameras/{camera_id}/health", headers=auth).json()
    assert health["quality"]["at"] == result["at"]
    offline = client.post("/api/v1/cameras", json={"name": "dark", "source_url": "rtsp://127.0.0.1:9/x"}, headers=auth)
    refused = client.post(f"/api/v1/cameras/{offline.json()['id']}/quality", headers=auth)
    assert refused.status_code == 503
    assert refused.json()["code"] == "not_online"
