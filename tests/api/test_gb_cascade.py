"""Cascade with two platforms on loopback: the lower registers with the upper (POST /api/v1/gb/superiors), the
upper asks its catalog like any device's and makes cameras of it, records one — the lower fetching it from its own
GB/T 28181 device (played in the test with a real clip) and sending it on as PS over RTP — and moves it, the PTZ
passed down to the device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.core.settings import Settings
from sharpeyes.protocols.gb28181 import ptz
from sharpeyes.workers.gb28181 import SipWorker
from tests.conftest import ADMIN_PASSWORD
from tests.support.gb_device import ChannelSpec, SimulatedDevice
from tests.support.recorded import record_and_decode
from tests.support.waiting import wait_for

LOWER_ID, UPPER_ID = "34020000002000000001", "34000000002000000001"
UPPER_DOMAIN = "3400000000"
DEVICE = "34020000001180000001"
CHANNEL = ChannelSpec("34020000001310000001", "东门球机", longitude=118.381, latitude=31.331)
DEVICE_PASSWORD, UPPER_PASSWORD = "12345678-device", "upper-platform-secret"


def _runtime(settings: Settings, name: str, **gb: Any) -> Runtime:
    recordings = settings.recordings.model_copy(update={"segment_s": 2.0, "min_free_mb": 0})
    section = settings.gb28181.model_copy(update={"enabled": True, "port": 0, **gb})
    changed = {"gb28181": section, "recordings": recordings, "data_dir": settings.data_dir.parent / name}
    runtime = build_runtime(settings.model_copy(update=changed), with_streams=True)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    return runtime


@pytest.fixture
def platforms(settings: Settings) -> Iterator[tuple[Runtime, Runtime]]:
    lower = _runtime(settings, "lower", server_id=LOWER_ID, password=DEVICE_PASSWORD)
    upper = _runtime(settings, "upper", server_id=UPPER_ID, domain=UPPER_DOMAIN, password=UPPER_PASSWORD)
    yield lower, upper
    for runtime in (lower, upper):
        assert runtime.streams is not None
        runtime.streams.shutdown()
        runtime.engine.dispose()


def _client(runtime: Runtime) -> TestClient:
    services = runtime.services
    return TestClient(create_app(runtime.settings, services, workers=[SipWorker(services.gb, services.cascade)]))


def _login(client: TestClient) -> dict[str, str]:
    token = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_the_upper_platform_lists_records_and_moves_a_channel_of_the_lower(
    platforms: tuple[Runtime, Runtime], car_footage: Path, transport: str
) -> None:
    """Over TCP the lower connects to the upper for SIP, and so the upper asks for media over TCP too."""
    lower, upper = platforms
    with _client(lower) as low, _client(upper) as up:
        low_auth, up_auth = _login(low), _login(up)
        low_port, up_port = lower.services.gb.port, upper.services.gb.port
        assert low_port
        assert up_port
        with SimulatedDevice(DEVICE, DEVICE_PASSWORD, low_port, car_footage, [CHANNEL]) as device:
            wait_for(lambda: _camera(low, low_auth, CHANNEL.channel_id), 15, "the device's channel on the lower")
            superior = {"superior_id": UPPER_ID, "domain": UPPER_DOMAIN, "host": "127.0.0.1", "port": up_port,
                        "password": UPPER_PASSWORD, "keepalive_s": 5, "transport": transport}  # fmt: skip
            added = low.post("/api/v1/gb/superiors", json=superior, headers=low_auth)
            assert added.status_code == 201, added.text
            assert "password" not in added.json()
            registered = wait_for(
                lambda: [
                    s for s in low.get("/api/v1/gb/superiors", headers=low_auth).json() if s["status"] == "registered"
                ],
                10,
                "the lower registered with the upper",
            )
            assert registered[0]["superior_id"] == UPPER_ID
            assert registered[0]["registered_at"] is not None

            camera = wait_for(lambda: _camera(up, up_auth, CHANNEL.channel_id), 15, "the channel on the upper")
            assert camera["source_url"] == f"gb28181://{LOWER_ID}/{CHANNEL.channel_id}"
            assert camera["rtsp_transport"] == transport.lower()
            assert (camera["longitude"], camera["latitude"]) == (118.381, 31.331)
            lower_seen = [d for d in up.get("/api/v1/gb/devices", headers=up_auth).json() if d["device_id"] == LOWER_ID]
            assert lower_seen[0]["name"] == "Sharp Eyes"

            quarter = {"polygons": [{"points": [[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]], "name": "window"}]}
            masked = low.put(f"/api/v1/cameras/{CHANNEL.channel_id}/privacy-masks", json=quarter, headers=low_auth)
            assert masked.status_code == 200, masked.text
            frames = record_and_decode(up, up_auth, CHANNEL.channel_id)
            assert len(frames) >= 15, "two seconds at 12.5 fps"
            assert (frames[0].width, frames[0].height) == (768, 432)
            for frame in frames:  # the lower's privacy mask reaches the upper's recording
                inside = frame.to_ndarray(format="gray")[4:210, 4:378]
                assert inside.std() < 2.0, "the masked quarter is one flat grey"
            playing = low.get("/api/v1/gb/superiors", headers=low_auth).json()[0]["playing"]
            assert playing == [CHANNEL.channel_id]

            moved = up.post(f"/api/v1/cameras/{CHANNEL.channel_id}/ptz", json={"action": "zoom_in"}, headers=up_auth)
            assert moved.status_code == 204, moved.text
            wait_for(lambda: device.controls, 5, "the PTZ command passed down to the device")
            assert device.controls[-1]["PTZCmd"] == ptz.move("zoom_in", 0.5)

            removed = low.delete(f"/api/v1/gb/superiors/{UPPER_ID}", headers=low_auth)
            assert removed.status_code == 204
            wait_for(
                lambda: [
                    d for d in up.get("/api/v1/gb/devices", headers=up_auth).json() if d["status"] == "unregistered"
                ],
                10,
                "the lower unregistered from the upper",
            )


def _camera(client: TestClient, auth: dict[str, str], camera_id: str) -> dict[str, Any] | None:
    answer = client.get(f"/api/v1/cameras/{camera_id}", headers=auth)
    return answer.json() if answer.status_code == 200 else None
