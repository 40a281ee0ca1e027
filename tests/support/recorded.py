"""Recording a camera through the API and decoding what was recorded (an independent check: PyAV reads the
segment the platform wrote)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import av
from av.video.frame import VideoFrame
from fastapi.testclient import TestClient

from tests.support.waiting import wait_for


def record_and_decode(
    client: TestClient, auth: dict[str, str], camera_id: str, timeout_s: float = 40
) -> list[VideoFrame]:
    """Record ``camera_id`` continuously until two segments are whole; the frames of the first, decoded."""
    plan = {"recording": {"mode": "continuous", "retention_days": 7}}
    assert client.patch(f"/api/v1/cameras/{camera_id}", json=plan, headers=auth).status_code == 200
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(minutes=5)).isoformat(), "end": (now + timedelta(minutes=5)).isoformat()}

    def segments() -> list[dict[str, Any]] | None:
        found = client.get(f"/api/v1/cameras/{camera_id}/recordings", params=window, headers=auth).json()
        return found["segments"] if len(found["segments"]) >= 2 else None

    first = wait_for(segments, timeout_s, "two recorded segments")[0]
    base = f"/api/v1/cameras/{camera_id}/segments/{first['id']}"
    data = client.get(f"{base}/init.mp4", headers=auth).content + client.get(f"{base}/media.m4s", headers=auth).content
    with av.open(io.BytesIO(data), "r") as container:
        return list(container.decode(video=0))
