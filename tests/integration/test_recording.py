"""Recording from a real RTSP camera: segments, gaps, playback, clips, restarts, crashes and a full disk."""

from __future__ import annotations

import io
import itertools
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from sharpeyes.store.database import session_factory
from sharpeyes.store.recordings import RecordingRepository
from tests.support.rtsp import RtspServer, rtsp_server_available
from tests.support.waiting import wait_for

pytestmark = pytest.mark.rtsp


@pytest.fixture(autouse=True)
def _short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPEYES_RECORDINGS__SEGMENT_S", "2")
    monkeypatch.setenv("SHARPEYES_RECORDINGS__STALL_S", "1")
    monkeypatch.setenv("SHARPEYES_RECORDINGS__MIN_FREE_MB", "0")


@pytest.fixture
def server(clip: Path) -> Iterator[RtspServer]:
    reason = rtsp_server_available()
    if reason is not None:
        pytest.fail(reason)
    with RtspServer(clip) as running:
        yield running


def _recording_camera(client: TestClient, auth: dict[str, str], url: str) -> str:
    created = client.post("/api/v1/cameras", json={"name": f"rec {time.monotonic()}", "source_url": url}, headers=auth)
    camera_id: str = created.json()["id"]
    plan = {"recording": {"mode": "continuous", "retention_days": 7}}
    patched = client.patch(f"/api/v1/cameras/{camera_id}", json=plan, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["recording"]["mode"] == "continuous"
    return camera_id


def _window(minutes: int = 10) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"start": (now - timedelta(minutes=minutes)).isoformat(), "end": (now + timedelta(minutes=1)).isoformat()}


def _recordings(client: TestClient, auth: dict[str, str], camera_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cameras/{camera_id}/recordings", params=_window(), headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _wait_segments(client: TestClient, auth: dict[str, str], camera_id: str, count: int) -> dict[str, Any]:
    def enough() -> dict[str, Any] | None:
        found = _recordings(client, auth, camera_id)
        return found if len(found["segments"]) >= count else None

    return wait_for(enough, 30, f"{count} segments")


def _wait_gaps(client: TestClient, auth: dict[str, str], camera_id: str, count: int) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]] | None:
        gaps: list[dict[str, Any]] = _recordings(client, auth, camera_id)["gaps"]
        return gaps if len(gaps) >= count else None

    return wait_for(enough, 15, f"gap {count}")


def _frames(data: bytes) -> int:
    with av.open(io.BytesIO(data), "r") as container:
        return len(list(container.decode(video=0)))


def test_recording_playback_and_clip(client: TestClient, auth: dict[str, str], server: RtspServer) -> None:
    camera_id = _recording_camera(client, auth, server.url)
    found = _wait_segments(client, auth, camera_id, 3)
    assert found["gaps"] == []
    segments = found["segments"]
    for before, after in itertools.pairwise(segments):
        joint = datetime.fromisoformat(after["start"]) - datetime.fromisoformat(before["end"])
        assert abs(joint) < timedelta(seconds=0.3), "segments follow each other without hole or overlap"

    playlist = client.get(f"/api/v1/cameras/{camera_id}/playback.m3u8", params=_window(), headers=auth)
    assert playlist.status_code == 200
    lines = playlist.text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXT-X-ENDLIST" in lines
    media = [line for line in lines if "/media.m4s?ticket=" in line]
    assert len(media) >= 3
    first_id = segments[0]["id"]
    base = f"/api/v1/cameras/{camera_id}/segments/{first_id}"
    init = client.get(f"{base}/init.mp4", headers=auth).content
    body = client.get(f"{base}/media.m4s", headers=auth).content
    assert init[4:8] == b"ftyp"
    assert body[4:8] in (b"moof", b"styp")
    assert _frames(init + body) >= 10, "a segment holds about two seconds at 10 fps"

    start = datetime.fromisoformat(segments[0]["start"]) + timedelta(seconds=0.5)
    end = datetime.fromisoformat(segments[2]["end"]) - timedelta(seconds=0.5)
    clip = client.get(
        f"/api/v1/cameras/{camera_id}/clip.mp4",
        params={"start": start.isoformat(), "end": end.isoformat()},
        headers=auth,
    )
    assert clip.status_code == 200, clip.text
    wanted_s = (end - start).total_seconds()
    assert _frames(clip.content) >= wanted_s * 10 - 2, "the clip covers the range, cut on keyframes around it"

    empty = {"start": "2020-01-01T00:00:00+08:00", "end": "2020-01-01T01:00:00+08:00"}
    assert client.get(f"/api/v1/cameras/{camera_id}/clip.mp4", params=empty, headers=auth).status_code == 404
    naive = {"start": "2020-01-01T00:00:00", "end": "2020-01-01T01:00:00"}
    assert client.get(f"/api/v1/cameras/{camera_id}/recordings", params=naive, headers=auth).status_code == 422


def test_every_outage_is_one_gap_and_recording_resumes(
    client: TestClient, auth: dict[str, str], server: RtspServer, runtime: Runtime
) -> None:
    camera_id = _recording_camera(client, auth, server.url)
    wait_for(lambda: _recordings(client, auth, camera_id)["segments"], 20, "the first segment")
    outages = 20
    for outage in range(outages):
        server.stop()
        time.sleep(0.5 + (outage % 3) * 0.7)
        server.start()
        back_at = datetime.now(UTC)
        gaps = _wait_gaps(client, auth, camera_id, outage + 1)
        resumed_after = datetime.fromisoformat(gaps[-1]["end"]) - back_at
        assert resumed_after < timedelta(seconds=5), f"outage {outage}: resumed {resumed_after} after the source"
    found = _recordings(client, auth, camera_id)
    assert len(found["gaps"]) == outages, [g["reason"] for g in found["gaps"]]
    assert all(g["reason"] for g in found["gaps"])
    assert runtime.streams is not None
    recorder = runtime.streams.recorder(camera_id)
    assert recorder is not None
    assert recorder.alive
    assert recorder.failure is None


def test_full_disk_evicts_oldest_unheld_segments(
    client: TestClient,
    auth: dict[str, str],
    server: RtspServer,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera_id = _recording_camera(client, auth, server.url)
    segments = _wait_segments(client, auth, camera_id, 4)["segments"]
    held = segments[0]["id"]

    with session_factory(runtime.engine).begin() as db:
        RecordingRepository(db).set_hold(held, True)
    service = runtime.services.recordings
    service._settings = service._settings.model_copy(update={"min_free_mb": 10**9})  # no disk has a petabyte free
    with caplog.at_level(logging.WARNING):
        report = service.apply_retention()
    assert report.low_space
    assert report.evicted >= 3
    left = _recordings(client, auth, camera_id)["segments"]
    assert held in [s["id"] for s in left], "a segment under legal hold is never deleted"
    assert "below" in caplog.text
    service.apply_retention()  # still low: no second alert
    alerts = client.get("/api/v1/events", params={"type": "storage.low_space"}, headers=auth).json()
    assert len(alerts) == 1, "one alert while the disk stays full"
    assert alerts[0]["data"]["evicted"] == report.evicted


def test_retention_deletes_expired_segments(
    client: TestClient, auth: dict[str, str], server: RtspServer, runtime: Runtime
) -> None:
    camera_id = _recording_camera(client, auth, server.url)
    wait_for(lambda: len(_recordings(client, auth, camera_id)["segments"]) >= 2, 20, "segments")
    service = runtime.services.recordings
    assert service.apply_retention().expired == 0
    report = service.apply_retention(datetime.now(UTC) + timedelta(days=8))
    assert report.expired >= 2
    assert report.freed_bytes > 0
    deleted = runtime.services.audit.find(action="retention.delete", limit=5)
    assert [(entry.username, entry.data["expired"]) for entry in deleted] == [("platform", report.expired)]


def test_recording_completeness_joins_the_coverage_figures(
    client: TestClient, auth: dict[str, str], server: RtspServer
) -> None:
    areas = "code,name,level,parent_code\n320100,市,city,\n".encode()
    assert client.post("/api/v1/areas/import", files={"file": ("a.csv", areas)}, headers=auth).status_code == 200
    before = client.get("/api/v1/coverage", params={"area": "320100"}, headers=auth).json()
    assert (before["planned_hours"], before["recording_completeness"]) == (0, 0), "nothing planned, nothing owed"
    body = {"name": "gate", "source_url": server.url, "area_code": "320100"}
    camera_id = client.post("/api/v1/cameras", json=body, headers=auth).json()["id"]
    client.patch(f"/api/v1/cameras/{camera_id}", json={"recording": {"mode": "continuous"}}, headers=auth)
    _wait_segments(client, auth, camera_id, 3)
    report = client.get("/api/v1/coverage", params={"area": "320100", "hours": 1}, headers=auth).json()
    assert 0 < report["recorded_hours"] <= report["planned_hours"] < 60 / 3600
    assert 0.3 < report["recording_completeness"] <= 1.0


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 4 MB tmpfs as the recordings directory (mounting needs root, as `make test` runs in CI)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs for the full-disk test (run as root): {mounted.stderr.strip()}")
    monkeypatch.setenv("SHARPEYES_RECORDINGS__DIRECTORY", str(disk))
    monkeypatch.setenv("SHARPEYES_RECORDINGS__MIN_FREE_MB", "1")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, name: str, leave_bytes: int) -> Path:
    ballast = disk / name
    free = shutil.disk_usage(disk).free
    ballast.write_bytes(b"\0" * max(0, free - leave_bytes))
    return ballast


def test_a_disk_that_fills_up(
    small_disk: Path,
    client: TestClient,
    auth: dict[str, str],
    server: RtspServer,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera_id = _recording_camera(client, auth, server.url)
    first = _wait_segments(client, auth, camera_id, 1)["segments"][0]["id"]
    with session_factory(runtime.engine).begin() as db:
        RecordingRepository(db).set_hold(first, True)
    _fill(small_disk, "ballast-1", 2**20 + 12 * 1024)  # just above the 1 MB that must stay free
    _wait_segments(client, auth, camera_id, 5)
    with caplog.at_level(logging.WARNING):
        report = runtime.services.recordings.apply_retention()
    assert report.low_space, "free space fell under recordings.min_free_mb"
    assert report.evicted >= 1
    assert "below" in caplog.text, "the operator is told"
    kept = [s["id"] for s in _recordings(client, auth, camera_id)["segments"]]
    assert first in kept, "held evidence survives a full disk"

    ballast = _fill(small_disk, "ballast-2", 0)  # now truly full: segments cannot be finished
    time.sleep(5)
    recorder = runtime.streams.recorder(camera_id) if runtime.streams else None
    assert recorder is not None
    assert recorder.alive, "a full disk does not stop the recorder"
    ballast.unlink()
    before = len(_recordings(client, auth, camera_id)["segments"])
    _wait_segments(client, auth, camera_id, before + 2)
