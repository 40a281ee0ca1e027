"""`kill -9` of the platform while it records: completed segments survive, the check command repairs the rest,
and the time the platform was down becomes a gap."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest

from tests.support.processes import SHARPEYES, PlatformProcess, free_port
from tests.support.rtsp import RtspServer, rtsp_server_available
from tests.support.waiting import wait_for

PASSWORD = "crash-test-password"
ENV = {
    "SHARPEYES_RECORDINGS__SEGMENT_S": "2",
    "SHARPEYES_RECORDINGS__STALL_S": "1",
    "SHARPEYES_RECORDINGS__MIN_FREE_MB": "0",
}


@pytest.fixture
def camera(clip: Path) -> Iterator[RtspServer]:
    reason = rtsp_server_available()
    if reason is not None:
        pytest.fail(reason)
    with RtspServer(clip) as running:
        yield running


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SHARPEYES), *args], capture_output=True, text=True, timeout=60, check=False)


def _api(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(f"{base}{path}", method=method)  # noqa: S310 - loopback test server
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def _recordings(base: str, token: str, camera_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    query = f"start={(now - timedelta(hours=1)).isoformat()}&end={(now + timedelta(minutes=1)).isoformat()}"
    result: dict[str, Any] = _api(
        base, "GET", f"/api/v1/cameras/{camera_id}/recordings?{query.replace('+', '%2B')}", token
    )
    return result


def _login(base: str) -> str:
    body = {"username": "admin", "password": PASSWORD}
    token: str = _api(base, "POST", "/api/v1/auth/login", body=body)["access_token"]
    return token


def test_kill_9_loses_at_most_the_segment_in_progress(tmp_path: Path, camera: RtspServer) -> None:
    data = str(tmp_path / "data")
    assert _cli("init", "--data-dir", data, "--admin-password", PASSWORD).returncode == 0
    added = _cli("cameras", "add", "gate", camera.url, "--data-dir", data)
    assert added.returncode == 0, added.stderr
    camera_id = json.loads(_cli("cameras", "list", "--json", "--data-dir", data).stdout)[0]["id"]

    port = free_port()
    first = PlatformProcess(["serve", "--data-dir", data], env=ENV, port=port)
    first.wait_healthy(60)
    base = first.base_url
    token = _login(base)
    _api(base, "PATCH", f"/api/v1/cameras/{camera_id}", token, {"recording": {"mode": "continuous"}})
    wait_for(lambda: len(_recordings(base, token, camera_id)["segments"]) >= 3, 30, "three segments")
    refused = _cli("recordings", "check", "--repair", "--data-dir", data)
    assert refused.returncode == 1, "no repair under a running recorder"
    assert "stop it before --repair" in refused.stderr
    first.kill()
    killed_at = datetime.now(UTC)

    check = _cli("recordings", "check", "--data-dir", data)
    assert check.returncode == 1, check.stdout
    assert "unfinished files / 未完成文件: 1" in check.stdout
    repaired = _cli("recordings", "check", "--repair", "--data-dir", data)
    assert repaired.returncode == 0, repaired.stdout
    assert _cli("recordings", "check", "--data-dir", data).returncode == 0

    files = sorted((tmp_path / "data" / "recordings").rglob("*.mp4"))
    assert len(files) >= 3
    for path in files:
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) > 0, f"{path.name} plays"

    second = PlatformProcess(["serve", "--data-dir", data], env=ENV, port=port)
    try:
        second.wait_healthy(60)
        token = _api(base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": PASSWORD})[
            "access_token"
        ]
        gaps = wait_for(lambda: _recordings(base, token, camera_id)["gaps"], 40, "the gap while the platform was down")
        assert "not running" in gaps[0]["reason"]
        assert datetime.fromisoformat(gaps[0]["start"]) <= killed_at
    finally:
        assert second.stop() in (0, 130, -2), second.output
