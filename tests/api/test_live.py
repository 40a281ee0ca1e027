from __future__ import annotations

import io
import json
import time
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from sharpeyes.cli.wiring import Runtime
from tests.support.clips import make_test_clip
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


def test_an_h265_camera_is_transcoded_to_h264_for_the_browser(
    client: TestClient, auth: dict[str, str], tmp_path: Path
) -> None:
    hevc = make_test_clip(tmp_path / "hevc.mp4", duration_s=20, codec="libx265")
    camera_id = _online_camera(client, auth, hevc)
    token = auth["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        start = socket.receive_json()
        init = socket.receive_bytes()
        fragments = [socket.receive_bytes() for _ in range(20)]
    assert start["mime"].startswith('video/mp4; codecs="avc1.'), "Chromium's MSE plays H.264, not H.265"
    with av.open(io.BytesIO(init + b"".join(fragments)), "r") as container:
        assert container.streams.video[0].codec_context.name == "h264"
        frames = list(container.decode(video=0))
    assert len(frames) == 20
    assert (frames[0].width, frames[0].height) == (320, 240)
    assert frames[0].key_frame
    segment = client.get(f"/api/v1/cameras/{camera_id}/snapshot.jpg", headers=auth)
    assert segment.status_code == 200, "snapshots decode H.265 directly"


def test_live_view_of_the_sub_stream(client: TestClient, auth: dict[str, str], clip: Path, tmp_path: Path) -> None:
    small = make_test_clip(tmp_path / "sub.mp4", duration_s=20, size_wh=(160, 120))
    body = {"name": "two streams", "source_url": clip.as_uri(), "sub_source_url": small.as_uri()}
    camera_id = client.post("/api/v1/cameras", json=body, headers=auth).json()["id"]
    token = auth["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live?profile=sub") as socket:
        socket.send_text(json.dumps({"token": token}))
        start = socket.receive_json()
    assert (start["width"], start["height"]) == (160, 120)
    text = client.get(f"/api/v1/cameras/{camera_id}/live.m3u8", params={"profile": "sub"}, headers=auth).text
    segment = next(line for line in text.splitlines() if ".m4s?" in line and line.endswith("&profile=sub"))
    assert client.get(f"/api/v1/cameras/{camera_id}/{segment}", headers=auth).status_code == 200


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


def test_a_quality_fault_becomes_one_event_and_so_does_its_end(
    client: TestClient, auth: dict[str, str], clip: Path, tmp_path: Path
) -> None:
    frozen = _online_camera(client, auth, make_test_clip(tmp_path / "still.mp4", duration_s=20, gop=1, still=True))
    for _ in range(2):
        checks = client.post(f"/api/v1/cameras/{frozen}/quality", headers=auth).json()["checks"]
        assert not {c["name"]: c for c in checks}["frozen"]["passed"], checks
    events = client.get("/api/v1/events", params={"camera_id": frozen}, headers=auth).json()
    assert [e["type"] for e in events] == ["camera.quality_failed"], "one event for a fault that lasts"
    assert "frozen" in events[0]["data"]["failed"]
    assert "frozen" in events[0]["detail"]
    # the same camera id, now with moving video
    assert client.patch(f"/api/v1/cameras/{frozen}", json={"source_url": clip.as_uri()}, headers=auth).is_success
    wait_for(lambda: _diagnosed_ok(client, auth, frozen), 20, "a passing diagnosis")
    types = [e["type"] for e in client.get("/api/v1/events", params={"camera_id": frozen}, headers=auth).json()]
    assert types == ["camera.quality_restored", "camera.quality_failed"], "newest first"
    only = client.get("/api/v1/events", params={"type": "camera.quality_restored"}, headers=auth).json()
    assert [e["camera_id"] for e in only] == [frozen]
    assert client.get("/api/v1/events", params={"type": "no.such"}, headers=auth).status_code == 422


def _diagnosed_ok(client: TestClient, auth: dict[str, str], camera_id: str) -> bool:
    answer = client.post(f"/api/v1/cameras/{camera_id}/quality", headers=auth)
    return answer.status_code == 200 and bool(answer.json()["passed"])


def _playlist_uris(text: str) -> tuple[list[str], list[str]]:
    maps = [line.split('"')[1] for line in text.splitlines() if line.startswith("#EXT-X-MAP")]
    media = [line for line in text.splitlines() if line and not line.startswith("#")]
    return maps, media


def test_live_hls_playlist_serves_keyframe_segments_that_decode(
    client: TestClient, auth: dict[str, str], clip: Path
) -> None:
    camera_id = _online_camera(client, auth, clip)
    base = f"/api/v1/cameras/{camera_id}"
    answer = client.get(f"{base}/live.m3u8", headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.apple.mpegurl"
    wait_for(lambda: len(_playlist_uris(client.get(f"{base}/live.m3u8", headers=auth).text)[1]) >= 3, 10, "3 segments")
    text = client.get(f"{base}/live.m3u8", headers=auth).text
    assert "#EXT-X-TARGETDURATION:1" in text, text
    maps, media = _playlist_uris(text)
    assert [uri.partition("?ticket=")[0] for uri in maps] == ["live/init-0.mp4"]
    durations = [float(line.split(":")[1].rstrip(",")) for line in text.splitlines() if line.startswith("#EXTINF")]
    assert all(0.9 <= d <= 1.1 for d in durations), durations  # the clip has a keyframe every second
    init = client.get(f"{base}/{maps[0]}", headers=auth).content
    segments = [client.get(f"{base}/{uri}", headers=auth).content for uri in media]
    for segment in segments:
        with av.open(io.BytesIO(init + segment), "r") as container:
            frames = list(container.decode(video=0))
        assert len(frames) == 10, "a one-second segment at 10 fps, starting on a keyframe"
        assert frames[0].key_frame


def test_live_hls_takes_the_token_from_the_url_for_players_without_headers(
    client: TestClient, auth: dict[str, str], clip: Path
) -> None:
    camera_id = _online_camera(client, auth, clip)
    base = f"/api/v1/cameras/{camera_id}"
    assert client.get(f"{base}/live.m3u8").status_code == 401
    token = auth["Authorization"].removeprefix("Bearer ")
    text = client.get(f"{base}/live.m3u8", params={"access_token": token}).text
    maps, media = _playlist_uris(text)
    assert token not in text, "the URIs carry a media ticket, never the token"
    assert "?ticket=" in maps[0]
    assert "?ticket=" in media[0]
    assert client.get(f"{base}/{media[0]}").status_code == 200, "the ticket opens the camera's segments"
    assert client.get(f"{base}/live.m3u8", params={"access_token": "forged"}).status_code == 401


def test_a_media_ticket_opens_one_camera_for_one_viewer_until_they_sign_out(
    client: TestClient, auth: dict[str, str], clip: Path, runtime: Runtime
) -> None:
    camera_id = _online_camera(client, auth, clip)
    other = client.post("/api/v1/cameras", json={"name": "other", "source_url": clip.as_uri()}, headers=auth).json()
    base = f"/api/v1/cameras/{camera_id}"
    _, media = _playlist_uris(client.get(f"{base}/live.m3u8", headers=auth).text)
    segment, _, ticket = media[0].partition("?ticket=")
    assert client.get(f"{base}/{segment}", params={"ticket": ticket}).status_code == 200
    elsewhere = client.get(f"/api/v1/cameras/{other['id']}/live/{segment.split('/')[-1]}", params={"ticket": ticket})
    assert elsewhere.status_code == 401, "a ticket is for its own camera"
    assert elsewhere.json()["code"] == "bad_ticket"
    with TestClient(client.app, client=("192.0.2.7", 50000)) as stranger:
        copied = stranger.get(f"{base}/{segment}", params={"ticket": ticket})
    assert copied.status_code == 401, "a URL copied to someone at another address is refused"
    payload, _, signature = ticket.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    assert client.get(f"{base}/{segment}", params={"ticket": forged}).status_code == 401
    assert client.get(f"{base}/{segment}", params={"ticket": "x" * 5000}).status_code == 401
    tickets = runtime.services.tickets
    token = auth["Authorization"].removeprefix("Bearer ")
    stale = tickets.issue(token, camera_id, "testclient", now_s=0)
    assert client.get(f"{base}/{segment}", params={"ticket": stale}).status_code == 401, "expired"
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert client.get(f"{base}/{segment}", params={"ticket": ticket}).status_code == 401, "signed out: ticket dead"


def test_live_hls_of_a_dead_camera_says_why(client: TestClient, auth: dict[str, str], runtime: Runtime) -> None:
    camera_id = client.post(
        "/api/v1/cameras", json={"name": "dead", "source_url": "rtsp://127.0.0.1:9/none"}, headers=auth
    ).json()["id"]
    answer = client.get(f"/api/v1/cameras/{camera_id}/live.m3u8", headers=auth)
    assert answer.status_code == 503
    assert answer.json()["code"] == "not_online"
    assert "refused" in answer.json()["detail"] or "unreachable" in answer.json()["detail"]


def test_an_unwatched_live_playlist_stops_and_lets_the_stream_rest(
    client: TestClient, auth: dict[str, str], clip: Path, runtime: Runtime
) -> None:
    assert runtime.streams is not None
    camera_id = _online_camera(client, auth, clip)
    assert client.get(f"/api/v1/cameras/{camera_id}/live.m3u8", headers=auth).status_code == 200
    live = runtime.services.live
    assert live.tend() == 0, "just asked for"
    later_s = time.monotonic() + 3600
    assert live.tend(later_s) == 1, "nobody asked for an hour"
    runtime.streams.tend(later_s)
    assert camera_id not in runtime.streams.streaming_ids(), "the stream rests once the playlist has gone"
    assert client.get(f"/api/v1/cameras/{camera_id}/live/1.m4s", headers=auth).json()["code"] == "gone"
