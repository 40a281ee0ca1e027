"""GB/T 28181 devices in the API: off unless enabled; with the SIP server running, a device that sipp plays shows
while it is registered (online, its keepalive's time) and is kept, unregistered, once it leaves."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.settings import Settings
from sharpeyes.workers.gb28181 import SipWorker
from tests.conftest import ADMIN_PASSWORD
from tests.protocols.test_gb28181_sip import DEVICE, PASSWORD, sipp_command
from tests.support.waiting import wait_for


def test_the_device_list_says_when_gb28181_is_off(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.get("/api/v1/gb/devices", headers=auth)
    assert answer.status_code == 503
    assert answer.json()["code"] == "gb_off"
    assert client.get("/api/v1/gb/devices").status_code == 401


def test_a_registered_device_is_listed_and_kept_after_it_unregisters(settings: Settings, tmp_path: Path) -> None:
    gb = settings.gb28181.model_copy(update={"enabled": True, "port": 0, "password": PASSWORD})
    runtime = build_runtime(settings.model_copy(update={"gb28181": gb}), with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    app = create_app(runtime.settings, runtime.services, workers=[SipWorker(runtime.services.gb)])
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        port = runtime.services.gb.port
        assert port
        device = subprocess.Popen(sipp_command("register_keepalive.xml", port, "u1", PASSWORD), cwd=tmp_path)
        try:
            listed = wait_for(
                lambda: [d for d in client.get("/api/v1/gb/devices", headers=auth).json() if d["last_keepalive"]],
                10,
                "the device registered and kept alive",
                interval_s=0.05,
            )
            assert listed[0]["device_id"] == DEVICE
            assert listed[0]["status"] == "online"
            assert listed[0]["transport"] == "UDP"
            assert listed[0]["address"].startswith("127.0.0.1:")
            assert device.wait(20) == 0
        finally:
            device.kill()
        left = client.get("/api/v1/gb/devices", headers=auth).json()
        assert [(d["device_id"], d["status"], d["last_keepalive"]) for d in left] == [(DEVICE, "unregistered", None)]
    runtime.engine.dispose()
