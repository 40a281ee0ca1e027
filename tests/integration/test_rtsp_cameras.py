"""Cameras served by a real RTSP server, through the API: transports, outages, stalls, credentials, fan-out."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from tests.support.rtsp import RtspServer, rtsp_server_available
from tests.support.waiting import wait_for

pytestmark = pytest.mark.rtsp

DEADLINE_S = 10.0
"""The promise to operators: a camera's status follows its stream within ten seconds."""


@pytest.fixture
def server(clip: Path) -> Iterator[RtspServer]:
    reason = rtsp_server_available()
    if reason is not None:
        pytest.fail(reason)
    with RtspServer(clip) as running:
        yield running


def _add(client: TestClient, auth: dict[str, str], url: str, transport: str = "tcp") -> str:
    body = {"name": f"rtsp {transport} {time.monotonic()}", "source_url": url, "rtsp_transport": transport}
    response = client.post("/api/v1/cameras", json=body, headers=auth)
    assert response.status_code == 201, response.text
    camera_id: str = response.json()["id"]
    return camera_id


def _status(client: TestClient, auth: dict[str, str], camera_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/cameras/{camera_id}", headers=auth).json()
    return body


def _wait_status(client: TestClient, auth: dict[str, str], camera_id: str, status: str) -> dict[str, Any]:
    return wait_for(
        lambda: (s := _status(client, auth, camera_id))["status"] == status and s, DEADLINE_S, f"status {status}"
    )


def _snapshot_time(client: TestClient, auth: dict[str, str], camera_id: str) -> str | None:
    response = client.get(f"/api/v1/cameras/{camera_id}/snapshot.jpg", headers=auth)
    if response.status_code != 200:
        return None
    assert response.content[:2] == b"\xff\xd8"
    frame_time: str = response.headers["x-frame-time"]
    return frame_time


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_camera_goes_online_with_snapshots(
    client: TestClient, auth: dict[str, str], server: RtspServer, transport: str
) -> None:
    camera_id = _add(client, auth, server.url, transport)
    _wait_status(client, auth, camera_id, "online")
    first = wait_for(lambda: _snapshot_time(client, auth, camera_id), DEADLINE_S, "a snapshot")
    wait_for(lambda: (t := _snapshot_time(client, auth, camera_id)) and t > first, 5, "a newer snapshot")


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_camera_follows_the_server_down_and_up(
    client: TestClient, auth: dict[str, str], server: RtspServer, runtime: Runtime, transport: str
) -> None:
    camera_id = _add(client, auth, server.url, transport)
    _wait_status(client, auth, camera_id, "online")
    other_id = _add(client, auth, server.url, "tcp")

    server.stop()
    stopped_at = time.monotonic()
    offline = _wait_status(client, auth, camera_id, "offline")
    assert time.monotonic() - stopped_at < DEADLINE_S
    assert offline["status_reason"], "offline says why"

    server.start()
    started_at = time.monotonic()
    _wait_status(client, auth, camera_id, "online")
    assert time.monotonic() - started_at < DEADLINE_S
    fresh_after = time.time()
    frame_time = wait_for(lambda: _snapshot_time(client, auth, camera_id), DEADLINE_S, "a snapshot after restart")
    assert datetime.fromisoformat(frame_time).timestamp() >= fresh_after - 1, "the snapshot is from the new stream"
    _wait_status(client, auth, other_id, "online")
    assert runtime.streams is not None
    session = runtime.streams.get(camera_id)
    assert session is not None
    assert session.join(0) is False, "the session thread lives on"


def test_a_stalled_stream_is_reported_and_recovers(
    client: TestClient, auth: dict[str, str], server: RtspServer
) -> None:
    camera_id = _add(client, auth, server.url)
    _wait_status(client, auth, camera_id, "online")
    server.pause()
    offline = _wait_status(client, auth, camera_id, "offline")
    assert "stalled" in offline["status_reason"] or "no answer" in offline["status_reason"]
    server.resume()
    _wait_status(client, auth, camera_id, "online")


def test_wrong_credentials_are_an_error_naming_the_cause(client: TestClient, auth: dict[str, str], clip: Path) -> None:
    reason = rtsp_server_available()
    if reason is not None:
        pytest.fail(reason)
    with RtspServer(clip, user="viewer", password="right-password") as locked:
        wrong = locked.url.replace("right-password", "wrong-password")
        bad_id = _add(client, auth, wrong)
        good_id = _add(client, auth, locked.url)
        failed = _wait_status(client, auth, bad_id, "error")
        assert "authentication failed" in failed["status_reason"]
        _wait_status(client, auth, good_id, "online")
        listing = client.get("/api/v1/cameras", headers=auth).text
        assert "right-password" not in listing
        assert "wrong-password" not in listing


def test_one_upstream_connection_serves_every_consumer(
    client: TestClient, auth: dict[str, str], server: RtspServer, runtime: Runtime
) -> None:
    camera_id = _add(client, auth, server.url)
    _wait_status(client, auth, camera_id, "online")
    assert runtime.streams is not None
    session = runtime.streams.get(camera_id)
    assert session is not None
    consumers = [session.relay.subscribe(name) for name in ("recorder", "viewer", "analytics")]
    for _ in range(5):
        wait_for(lambda: _snapshot_time(client, auth, camera_id), DEADLINE_S, "a snapshot")
    for consumer in consumers:
        assert consumer.get(DEADLINE_S) is not None
    assert server.client_count == 1


def test_health_history_names_each_outage(client: TestClient, auth: dict[str, str], server: RtspServer) -> None:
    camera_id = _add(client, auth, server.url)
    _wait_status(client, auth, camera_id, "online")
    server.stop()
    _wait_status(client, auth, camera_id, "offline")
    server.start()
    _wait_status(client, auth, camera_id, "online")
    health = client.get(f"/api/v1/cameras/{camera_id}/health", params={"hours": 1}, headers=auth).json()
    statuses = [event["status"] for event in health["history"]]
    assert statuses == ["connecting", "online", "offline", "online"]
    assert health["history"][2]["reason"], "an outage says why"
    assert 0 < health["online_ratio"] <= 1
    assert health["flapping"] is False
    assert client.get("/api/v1/cameras/nope/health", headers=auth).status_code == 404


def test_live_view_follows_a_camera_reconnect(client: TestClient, auth: dict[str, str], server: RtspServer) -> None:
    """Regression: a reconnect kept the old fMP4 timeline and ended the viewer's feed."""
    camera_id = _add(client, auth, server.url)
    _wait_status(client, auth, camera_id, "online")
    token = auth["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        assert socket.receive_json()["type"] == "start"
        socket.receive_bytes()
        for _ in range(5):
            socket.receive_bytes()
        server.stop()
        server.start()
        for _ in range(500):  # fragments until the new connection announces itself
            message = socket.receive()
            if message.get("text"):
                assert json.loads(message["text"])["type"] == "start"
                break
        else:
            pytest.fail("no new start after the camera reconnected")
        assert socket.receive_bytes()[4:8] == b"ftyp"
        assert socket.receive_bytes()[4:8] == b"moof"


def test_rtsp_video_reaches_viewers_in_the_mp4_layout_browsers_need(
    client: TestClient, auth: dict[str, str], server: RtspServer
) -> None:
    """Regression: RTSP delivers Annex B (start codes), which Media Source Extensions reject inside MP4."""
    camera_id = _add(client, auth, server.url)
    _wait_status(client, auth, camera_id, "online")
    token = auth["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        assert socket.receive_json()["type"] == "start"
        assert b"avcC" in socket.receive_bytes()
        fragments = [socket.receive_bytes() for _ in range(10)]
    for fragment in fragments:
        at = fragment.index(b"mdat")
        (box_size,) = struct.unpack(">I", fragment[at - 4 : at])
        payload = fragment[at + 4 : at - 4 + box_size]
        offset = 0
        while offset < len(payload):  # the sample is whole NAL units, each behind its 4-byte length
            (length,) = struct.unpack(">I", payload[offset : offset + 4])
            assert length > 1, "a start code where a length belongs"
            offset += 4 + length
        assert offset == len(payload)
