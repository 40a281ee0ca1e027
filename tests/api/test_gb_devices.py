"""A GB/T 28181 device (played in the test, sending a real clip) joins the platform: it is asked what it is and
what it has, its video channels become cameras (area from CivilCode, position from the catalog), a channel is
recorded and the recording decodes; PTZ reaches the device and is audited; its alarm becomes an event; it is kept
(unregistered) after it leaves."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.settings import Settings
from sharpeyes.protocols.gb28181 import manscdp, ptz
from sharpeyes.store.audit import AuditRepository
from sharpeyes.store.database import session_factory
from sharpeyes.workers.gb28181 import SipWorker
from tests.conftest import ADMIN_PASSWORD
from tests.support.gb_device import ChannelSpec, SimulatedDevice
from tests.support.recorded import record_and_decode
from tests.support.waiting import wait_for

DEVICE = "34020000001180000001"
PASSWORD = "12345678-device"
CHANNELS = [
    ChannelSpec("34020000001310000001", "东门球机", "340202", longitude=118.381, latitude=31.331),
    ChannelSpec("34020000001310000002", "西门枪机", "34020201"),
    ChannelSpec("34020000002150000001", "业务分组"),
]
AREAS = "code,name,level,parent_code\n340200,芜湖市,city,\n340202,镜湖区,district,340200\n"


@pytest.fixture
def gb_runtime(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("SHARPEYES_RECORDINGS__SEGMENT_S", "2")
    monkeypatch.setenv("SHARPEYES_RECORDINGS__MIN_FREE_MB", "0")
    gb = settings.gb28181.model_copy(update={"enabled": True, "port": 0, "password": PASSWORD})
    recordings = settings.recordings.model_copy(update={"segment_s": 2.0, "min_free_mb": 0})
    runtime = build_runtime(settings.model_copy(update={"gb28181": gb, "recordings": recordings}), with_streams=True)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    runtime.services.areas.import_table(io.BytesIO(AREAS.encode()), source_name="areas.csv")
    yield runtime
    assert runtime.streams is not None
    runtime.streams.shutdown()
    runtime.engine.dispose()


@pytest.fixture
def gb_client(gb_runtime: Runtime) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    """A client of the platform with its SIP server running, signed in; and the SIP port."""
    app = create_app(gb_runtime.settings, gb_runtime.services, workers=[SipWorker(gb_runtime.services.gb)])
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        port = gb_runtime.services.gb.port
        assert port
        yield client, {"Authorization": f"Bearer {token.json()['access_token']}"}, port


def test_a_device_joins_records_moves_and_alarms(
    gb_runtime: Runtime, gb_client: tuple[TestClient, dict[str, str], int], car_footage: Path
) -> None:
    client, auth, port = gb_client
    with SimulatedDevice(DEVICE, PASSWORD, port, car_footage, CHANNELS) as device:
        listed = wait_for(lambda: _device(client, auth, channels=3), 15, "the device and its catalog")
        assert listed["name"] == "东门NVR"
        assert listed["manufacturer"] == "Sim"
        assert listed["status"] == "online"

        status = client.get(f"/api/v1/gb/devices/{DEVICE}/status", headers=auth)
        assert status.status_code == 200, status.text
        assert (status.json()["online"], status.json()["recording"]) == (True, True)
        assert client.get("/api/v1/gb/devices/34020000001180000099/status", headers=auth).status_code == 404
        refreshed = client.post(f"/api/v1/gb/devices/{DEVICE}/catalog", headers=auth)
        assert refreshed.status_code == 200, refreshed.text
        assert len(refreshed.json()) == 3

        channels = client.get(f"/api/v1/gb/devices/{DEVICE}/channels", headers=auth).json()
        assert [c["camera_id"] for c in channels] == [CHANNELS[0].channel_id, CHANNELS[1].channel_id, None]
        camera = client.get(f"/api/v1/cameras/{CHANNELS[0].channel_id}", headers=auth).json()
        assert (camera["status"], camera["status_reason"]) == (
            "idle",
            f"not streaming; its GB/T 28181 device {DEVICE} is online / 设备在线",
        ), "known from its device, not by asking for its video"
        assert device.invites == []
        assert camera["name"] == "东门球机"
        assert camera["source_url"] == f"gb28181://{DEVICE}/{CHANNELS[0].channel_id}"
        assert camera["area_code"] == "340202"
        assert (camera["longitude"], camera["latitude"]) == (118.381, 31.331)
        second = client.get(f"/api/v1/cameras/{CHANNELS[1].channel_id}", headers=auth).json()
        assert second["area_code"] == "340202", "an 8-digit civil code falls back to its county"

        frames = record_and_decode(client, auth, CHANNELS[0].channel_id, timeout_s=30)
        assert len(frames) >= 15, "two seconds at 12.5 fps"
        assert (frames[0].width, frames[0].height) == (768, 432)

        moved = client.post(f"/api/v1/cameras/{CHANNELS[0].channel_id}/ptz", json={"action": "up"}, headers=auth)
        assert moved.status_code == 204, moved.text
        assert device.controls[-1]["PTZCmd"] == ptz.move("up", 0.5)
        wrong = client.post(f"/api/v1/cameras/{CHANNELS[0].channel_id}/ptz", json={"action": "fly"}, headers=auth)
        assert wrong.status_code == 422
        assert wrong.json()["code"] == "bad_ptz"
        with session_factory(gb_runtime.engine)() as db:
            records = AuditRepository(db).recent("ptz")
        assert [(r.username, r.outcome, r.data["action"]) for r in records] == [
            ("admin", "refused", "fly"),
            ("admin", "ok", "up"),
        ]
        assert records[1].data["camera_id"] == CHANNELS[0].channel_id

        alarm = {"AlarmPriority": "1", "AlarmMethod": "5", "AlarmTime": "2026-11-29T10:00:00",
                 "AlarmDescription": "移动侦测"}  # fmt: skip
        device.notify(manscdp.write("Notify", "Alarm", "9", CHANNELS[0].channel_id, alarm))
        event = wait_for(lambda: _event(client, auth), 10, "the alarm as an event")
        assert event["camera_id"] == CHANNELS[0].channel_id
        assert "video" in event["detail"]
        assert "移动侦测" in event["detail"]
    wait_for(lambda: _device(client, auth, status="unregistered"), 10, "the device kept after it left")
    second = client.get(f"/api/v1/cameras/{CHANNELS[1].channel_id}", headers=auth).json()
    assert (second["status"], second["status_reason"]) == (
        "offline",
        f"its GB/T 28181 device {DEVICE} is not registered / 设备未注册",
    )


def _device(client: TestClient, auth: dict[str, str], **wanted: Any) -> dict[str, Any] | None:
    devices = client.get("/api/v1/gb/devices", headers=auth).json()
    found = [d for d in devices if d["device_id"] == DEVICE and all(d[k] == v for k, v in wanted.items())]
    return found[0] if found else None


def _event(client: TestClient, auth: dict[str, str]) -> dict[str, Any] | None:
    events = client.get("/api/v1/events", params={"limit": 10}, headers=auth).json()
    alarms = [event for event in events if event["type"] == "device.alarm"]
    return alarms[0] if alarms else None


def test_device_recordings_are_listed_and_played_back_over_hls(
    gb_runtime: Runtime, gb_client: tuple[TestClient, dict[str, str], int], car_footage: Path
) -> None:
    client, auth, port = gb_client
    device = SimulatedDevice(DEVICE, PASSWORD, port, car_footage, CHANNELS[:1])
    device.recordings = [
        ("2026-11-29T08:00:00", "2026-11-29T08:30:00"),
        ("2026-11-29T09:00:00", "2026-11-29T09:10:00"),
        ("2026-11-29T10:00:00", "2026-11-29T10:05:00"),
    ]
    with device:
        camera_id = CHANNELS[0].channel_id
        wait_for(lambda: _device(client, auth, channels=1), 15, "the device and its catalog")
        day = {"start": "2026-11-29T00:00:00+08:00", "end": "2026-11-30T00:00:00+08:00", "source": "device"}
        listed = client.get(f"/api/v1/cameras/{camera_id}/recordings", params=day, headers=auth)
        assert listed.status_code == 200, listed.text
        kept = listed.json()["device_recordings"]
        assert [(r["start"], r["type"]) for r in kept] == [
            ("2026-11-29T00:00:00Z", "time"),
            ("2026-11-29T01:00:00Z", "time"),
            ("2026-11-29T02:00:00Z", "time"),
        ], "three recordings from two MESSAGEs, device local time (Asia/Shanghai) read as UTC+8"

        asked = {"start": "2026-11-29T08:00:00+08:00", "end": "2026-11-29T08:00:10+08:00", "source": "device"}
        playlist = client.get(f"/api/v1/cameras/{camera_id}/playback.m3u8", params=asked, headers=auth)
        assert playlist.status_code == 200, playlist.text
        playback_id = playlist.headers["X-Playback-Id"]
        offer = device.invites[-1]
        assert (offer.kind, offer.end - offer.start) == ("Playback", 10)
        assert offer.ssrc.startswith("1"), "1: playback"

        def control(action: str, value: float | None = None) -> int:
            path = f"/api/v1/cameras/{camera_id}/device-playback/{playback_id}/control"
            return client.post(path, json={"action": action, "value": value}, headers=auth).status_code

        assert control("pause") == 204
        assert device.infos[-1].startswith("PAUSE RTSP/1.0")
        time.sleep(3)  # the device sends nothing while paused, longer than streams.read_timeout_s: not the end
        assert control("resume") == 204
        assert device.infos[-1].startswith("PLAY RTSP/1.0")
        assert control("scale", 2) == 204
        assert "Scale: 2" in device.infos[-1]
        assert control("scale", 100) == 422

        def ended() -> str | None:
            again = client.get(f"/api/v1/cameras/{camera_id}/playback.m3u8", params=asked, headers=auth).text
            return again if "#EXT-X-ENDLIST" in again else None

        text = wait_for(ended, 30, "the playback to end with the range")
        again = client.get(f"/api/v1/cameras/{camera_id}/playback.m3u8", params=asked, headers=auth)
        assert again.headers["X-Playback-Id"] == playback_id, "the same playback while it is kept"
        lines = text.splitlines()
        init = next(line.split('"')[1] for line in lines if line.startswith("#EXT-X-MAP"))
        segments = [line for line in lines if ".m4s?ticket=" in line]
        base = f"/api/v1/cameras/{camera_id}/"
        data = client.get(base + init, headers=auth).content
        data += b"".join(client.get(base + segment, headers=auth).content for segment in segments)
        with av.open(io.BytesIO(data), "r") as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert 115 <= frames <= 127, "ten seconds at 12.5 fps, the pause included"
        missing = client.get(f"{base}device-playback/not-an-id/0.m4s", headers=auth)
        assert missing.status_code == 404
    with session_factory(gb_runtime.engine)() as db:
        actions = [(r.action, r.outcome) for r in AuditRepository(db).recent(None)]
    assert ("playback", "ok") in actions
    assert ("playback.control", "ok") in actions
