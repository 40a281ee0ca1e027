"""Privacy masks: painted into live view (WebSocket and HLS), snapshots, recorded playback, clips and exports for
every viewer, lifted per request only by a role with ``mask.lift`` — and each lift, refusal and change audited. The
stored recording is never touched."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from sharpeyes.cli.main import app
from sharpeyes.cli.wiring import Runtime
from sharpeyes.store.evidence import MANIFEST
from tests.support.waiting import wait_for

PASSWORD = "privacy-test-password"
MASK = {"name": "住户窗户", "points": [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]}
"""The top-left quarter of the picture."""


@pytest.fixture(autouse=True)
def _short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_RECORDINGS__SEGMENT_S", "2")
    monkeypatch.setenv("SHARPEYES_RECORDINGS__MIN_FREE_MB", "0")


@pytest.fixture
def viewers(runtime: Runtime, client: TestClient) -> dict[str, dict[str, str]]:
    """Bearer headers of an investigator (no ``mask.lift``) and a supervisor (``mask.lift``), both over the
    camera ``masked``."""
    headers = {}
    for role in ("investigator", "supervisor"):
        runtime.services.accounts.create_user("admin", role, PASSWORD, role, (), ("masked",))
        token = client.post("/api/v1/auth/login", json={"username": role, "password": PASSWORD}).json()
        headers[role] = {"Authorization": f"Bearer {token['access_token']}"}
    return headers


@pytest.fixture
def camera(client: TestClient, auth: dict[str, str], clip: Path) -> str:
    made = client.post(
        "/api/v1/cameras", json={"id": "masked", "name": "村口", "source_url": clip.as_uri()}, headers=auth
    )
    assert made.status_code == 201, made.text
    put = client.put("/api/v1/cameras/masked/privacy-masks", json={"polygons": [MASK]}, headers=auth)
    assert put.status_code == 200, put.text
    wait_for(lambda: client.get("/api/v1/cameras/masked", headers=auth).json()["status"] == "online", 10, "online")
    return "masked"


def _gray(frame: av.VideoFrame) -> npt.NDArray[Any]:
    return frame.to_ndarray(format="gray")


def _masked(picture: npt.NDArray[np.uint8]) -> bool:
    """The top-left quarter is one flat grey (a little ringing at its edges allowed)."""
    height, width = picture.shape
    inside = picture[2 : height // 2 - 4, 2 : width // 2 - 4].astype(float)
    return bool(inside.std() < 2.0 and 80 < inside.mean() < 110)


def _frames(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), "r") as container:
        return list(container.decode(video=0))


def _actions(runtime: Runtime, username: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.action, e.outcome, e.data) for e in runtime.services.audit.find(username=username, limit=100)]


def test_masks_are_checked_kept_and_changed_by_camera_managers_only(
    runtime: Runtime, client: TestClient, auth: dict[str, str], viewers: dict[str, dict[str, str]]
) -> None:
    made = client.post("/api/v1/cameras", json={"id": "masked", "name": "学校", "source_url": None}, headers=auth)
    assert made.status_code == 201
    url = "/api/v1/cameras/masked/privacy-masks"
    for bad, code in (
        ([[0.1, 0.1], [0.2, 0.1]], 422),  # two points
        ([[0.1, 0.1], [1.5, 0.1], [0.2, 0.3]], 422),  # outside the picture
        ([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], 422),  # a line: covers nothing
    ):
        answer = client.put(url, json={"polygons": [{"points": bad}]}, headers=auth)
        assert answer.status_code == code, answer.text
        assert "mask 1" in answer.json()["detail"] or "polygons.0.points" in answer.json()["detail"], answer.text
    assert client.put(url, json={"polygons": [MASK]}, headers=viewers["supervisor"]).status_code == 403
    assert client.put(url, json={"polygons": [MASK]}, headers=auth).status_code == 200
    assert client.get(url, headers=viewers["investigator"]).json() == [MASK]
    assert client.put(url, json={"polygons": [MASK] * 40}, headers=auth).status_code == 422
    assert client.get("/api/v1/cameras/nowhere/privacy-masks", headers=auth).status_code == 404
    changes = [data for action, _, data in _actions(runtime, "admin") if action == "camera.masks"]
    assert changes
    assert changes[0]["masks"][0]["points"] == MASK["points"]
    assert client.put(url, json={"polygons": []}, headers=auth).json() == []


def test_live_view_and_snapshots_are_masked_unless_a_supervisor_lifts_them(
    runtime: Runtime, client: TestClient, camera: str, viewers: dict[str, dict[str, str]]
) -> None:
    investigator, supervisor = viewers["investigator"], viewers["supervisor"]
    token = investigator["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/cameras/{camera}/live") as socket:
        socket.send_text(json.dumps({"token": token}))
        assert socket.receive_json()["type"] == "start"
        data = socket.receive_bytes()
        while len(frames := _frames(data)) < 3:
            data += socket.receive_bytes()
    assert all(_masked(_gray(frame)) for frame in frames)
    with client.websocket_connect(f"/api/v1/cameras/{camera}/live?lift_masks=true") as socket:
        socket.send_text(json.dumps({"token": token}))
        refused = socket.receive_json()
    assert refused["type"] == "error"
    assert "mask.lift" in refused["detail"]

    base = f"/api/v1/cameras/{camera}"
    masked_text = client.get(f"{base}/live.m3u8", headers=investigator).text
    init, first = _first_segment(masked_text)
    picture = _frames(client.get(f"{base}/{init}", headers=investigator).content + client.get(f"{base}/{first}",
                      headers=investigator).content)[0]  # fmt: skip
    assert _masked(_gray(picture))
    lifted_text = client.get(
        f"{base}/live.m3u8", params={"lift_masks": "true", "reason": "核实警情"}, headers=supervisor
    )
    init, first = _first_segment(lifted_text.text)
    assert "lift_masks=true" in first
    picture = _frames(client.get(f"{base}/{init}", headers=supervisor).content + client.get(f"{base}/{first}",
                      headers=supervisor).content)[0]  # fmt: skip
    assert not _masked(_gray(picture))
    assert client.get(f"{base}/{first}", headers=investigator).status_code == 403, "a lifted URI is not for everyone"

    snapshot = client.get(f"{base}/snapshot.jpg", headers=investigator)
    assert _masked(np.asarray(Image.open(io.BytesIO(snapshot.content)).convert("L")))
    lifted = client.get(f"{base}/snapshot.jpg", params={"lift_masks": "true"}, headers=supervisor)
    assert not _masked(np.asarray(Image.open(io.BytesIO(lifted.content)).convert("L")))

    lifts = [
        (outcome, data["via"]) for action, outcome, data in _actions(runtime, "supervisor") if action == "mask.lift"
    ]
    assert ("ok", "live") in lifts
    assert ("ok", "snapshot") in lifts
    refusals = [data for action, outcome, data in _actions(runtime, "investigator") if action == "mask.lift"]
    assert refusals
    assert refusals[0]["via"] == "live"


def _first_segment(playlist: str) -> tuple[str, str]:
    lines = playlist.splitlines()
    init = next(line.split('"')[1] for line in lines if line.startswith("#EXT-X-MAP"))
    media = next(line for line in lines if line and not line.startswith("#"))
    return init, media


def _recorded(client: TestClient, auth: dict[str, str], camera: str) -> list[dict[str, Any]]:
    plan = {"recording": {"mode": "continuous", "retention_days": 7}}
    assert client.patch(f"/api/v1/cameras/{camera}", json=plan, headers=auth).status_code == 200
    window = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}

    def segments() -> list[dict[str, Any]] | None:
        found = client.get(f"/api/v1/cameras/{camera}/recordings", params=window, headers=auth).json()
        return found["segments"] if len(found["segments"]) >= 3 else None

    return wait_for(segments, 30, "three recorded segments")


def test_playback_and_clips_are_masked_and_the_recording_stays_whole(
    runtime: Runtime, client: TestClient, auth: dict[str, str], camera: str, viewers: dict[str, dict[str, str]]
) -> None:
    investigator, supervisor = viewers["investigator"], viewers["supervisor"]
    recorded = _recorded(client, auth, camera)
    stored = {
        path: hashlib.sha256(path.read_bytes()).hexdigest() for path in runtime.settings.recordings_dir.rglob("*.mp4")
    }
    base = f"/api/v1/cameras/{camera}"
    window = {"start": recorded[0]["start"], "end": recorded[1]["end"]}

    playlist = client.get(f"{base}/playback.m3u8", params=window, headers=investigator).text
    init, first = _first_segment(playlist)
    masked = _frames(client.get(f"{base}/{init}", headers=investigator).content + client.get(f"{base}/{first}",
                     headers=investigator).content)  # fmt: skip
    assert len(masked) == 20, "a two-second segment at 10 fps, every frame kept"
    assert all(_masked(_gray(frame)) for frame in masked)
    lifted = client.get(f"{base}/playback.m3u8", params={**window, "lift_masks": "true"}, headers=supervisor).text
    init, first = _first_segment(lifted)
    original = client.get(f"{base}/{init}", headers=supervisor).content + client.get(f"{base}/{first}",
                          headers=supervisor).content  # fmt: skip
    assert not _masked(_gray(_frames(original)[0]))

    clip = client.get(f"{base}/clip.mp4", params=window, headers=investigator)
    assert clip.status_code == 200
    frames = _frames(clip.content)
    assert len(frames) >= 40
    assert all(_masked(_gray(frame)) for frame in frames)
    assert (
        client.get(f"{base}/clip.mp4", params={**window, "lift_masks": "true"}, headers=investigator).status_code == 403
    )
    plain = client.get(
        f"{base}/clip.mp4", params={**window, "lift_masks": "true", "reason": "辨认"}, headers=supervisor
    )
    assert not _masked(_gray(_frames(plain.content)[0]))

    long = {
        "start": recorded[0]["start"],
        "end": (datetime.fromisoformat(recorded[0]["start"]) + timedelta(minutes=11)).isoformat(),
    }
    too_long = client.get(f"{base}/clip.mp4", params=long, headers=investigator)
    assert (too_long.status_code, too_long.json()["code"]) == (422, "clip_too_long"), "re-encoded while one waits"

    for path, digest in stored.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path.name} was changed"
    downloads = [data for action, _, data in _actions(runtime, "investigator") if action == "clip.download"]
    assert downloads
    assert downloads[0]["masked"] is True
    lifts = [data for action, outcome, data in _actions(runtime, "supervisor") if action == "mask.lift"]
    assert {"playback", "clip"} <= {data["via"] for data in lifts}
    assert any(data["reason"] == "辨认" for data in lifts)


def test_an_export_is_masked_and_watermarked_and_still_verifies(
    runtime: Runtime, client: TestClient, auth: dict[str, str], camera: str, viewers: dict[str, dict[str, str]]
) -> None:
    investigator = viewers["investigator"]
    recorded = _recorded(client, auth, camera)
    start = datetime.fromisoformat(recorded[0]["start"]) + timedelta(seconds=0.5)
    asked = {"camera_id": camera, "start": start.isoformat(), "end": recorded[1]["end"], "case_id": "JH-7",
             "reason": "寻找走失儿童", "watermark": True}  # fmt: skip
    assert client.post("/api/v1/exports", json={**asked, "lift_masks": True}, headers=investigator).status_code == 403
    created = client.post("/api/v1/exports", json=asked, headers=investigator)
    assert created.status_code == 202, created.text
    export_id = created.json()["id"]
    done = wait_for(
        lambda: (
            (job := client.get(f"/api/v1/exports/{export_id}", headers=investigator).json())["status"] != "running"
            and job
        ),
        60,
        "the export to finish",
    )
    assert done["status"] == "done", done
    assert done["masked"]
    assert done["watermark"]
    package = client.get(f"/api/v1/exports/{export_id}/package.zip", headers=investigator).content
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        frames = _frames(archive.read("clip.mp4"))
    assert manifest["re_encoded"] is True
    assert manifest["privacy_masks"] == [MASK["points"]]
    assert manifest["watermark"].startswith("investigator  ")
    assert manifest["watermark"].endswith("JH-7")
    picture = _gray(frames[0])
    assert _masked(picture)
    height = picture.shape[0]
    bottom_left = picture[height - height // 6 :, : picture.shape[1] // 2]
    assert (bottom_left > 200).sum() > 50, "the watermark's letters"
    assert (bottom_left < 40).sum() > 50, "their outline"

    path = runtime.settings.data_dir / "evidence.zip"
    path.write_bytes(package)
    result = CliRunner().invoke(app, ["export", "verify", str(path), "--data-dir", str(runtime.settings.data_dir)])
    assert result.exit_code == 0, result.output
