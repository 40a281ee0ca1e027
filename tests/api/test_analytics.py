"""Live analysis of a camera: a plan set through the API, a worker on the sub-stream, rule events with snapshots."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from sharpeyes.cli.wiring import Runtime
from tests.conftest import DATA
from tests.support.waiting import wait_for

EVERYWHERE = {"id": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}


def _events(client: TestClient, auth: dict[str, str], camera_id: str, kind: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/events", params={"camera_id": camera_id, "type": kind}, headers=auth)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_people_walking_in_raise_intrusion_events_with_snapshots(
    client: TestClient, auth: dict[str, str], runtime: Runtime, nanodet_model: Path
) -> None:
    clip = DATA / "pets09-s2l1" / "pets09-s2l1.mp4"
    if not clip.exists():
        pytest.skip(f"{clip} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    camera_id = client.post(
        "/api/v1/cameras", json={"name": "square", "source_url": clip.as_uri()}, headers=auth
    ).json()["id"]
    plan = {
        "enabled": True,
        "fps": 4,
        "zones": [EVERYWHERE],
        "rules": [{"id": "entry", "type": "intrusion", "zone": "all"}],
    }
    answer = client.patch(f"/api/v1/cameras/{camera_id}", json={"analytics": plan}, headers=auth)
    assert answer.status_code == 200, answer.text
    analytics = client.get(f"/api/v1/cameras/{camera_id}/analytics", headers=auth).json()
    assert analytics["running"], "setting an enabled plan starts its worker"
    events = wait_for(lambda: _events(client, auth, camera_id, "analytics.intrusion"), 60, "an intrusion event")
    event = events[0]
    assert event["data"]["rule"] == "entry"
    assert event["data"]["classes"] == ["person"]
    assert len(event["data"]["boxes"]) == len(event["data"]["track_ids"]) == 1
    assert set(event["data"]["clip"]) == {"start", "end"}
    stats = client.get(f"/api/v1/cameras/{camera_id}/analytics", headers=auth).json()["stats"]
    assert stats["frames"] > 0
    assert stats["events"] >= 1
    assert stats["dropped_packets"] == 0
    assert 0 < stats["moving_frames"] <= stats["frames"]
    metrics = client.get("/api/v1/metrics", headers=auth)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = metrics.text.splitlines()
    assert "sharpeyes_analysis_workers 1" in lines
    assert "# TYPE sharpeyes_analysis_detector_calls_total counter" in lines
    frames = next(line for line in lines if line.startswith(f'sharpeyes_analysis_frames_total{{camera="{camera_id}"}}'))
    assert float(frames.split()[-1]) > 0
    assert client.get("/api/v1/metrics").status_code == 401, "signed in only"
    picture = client.get(f"/api/v1/events/{event['id']}/snapshot.jpg", headers=auth)
    assert picture.status_code == 200
    assert picture.content[:2] == b"\xff\xd8"
    whole = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    masks = {"polygons": [{"name": "all", "points": whole}]}
    assert client.put(f"/api/v1/cameras/{camera_id}/privacy-masks", json=masks, headers=auth).status_code == 200
    masked = Image.open(io.BytesIO(client.get(f"/api/v1/events/{event['id']}/snapshot.jpg", headers=auth).content))
    assert np.asarray(masked.convert("L")).std() < 2.0, "the privacy mask covers the whole event picture"
    lifted = client.get(f"/api/v1/events/{event['id']}/snapshot.jpg", params={"lift_masks": "true"}, headers=auth)
    assert lifted.content == picture.content
    off = client.patch(f"/api/v1/cameras/{camera_id}", json={"analytics": {**plan, "enabled": False}}, headers=auth)
    assert off.status_code == 200
    assert not client.get(f"/api/v1/cameras/{camera_id}/analytics", headers=auth).json()["running"]
    reason = {"reason": "test of structuring"}
    kept = wait_for(
        lambda: (
            client.post("/api/v1/search", json={"text": "person", "camera_ids": [camera_id], **reason}, headers=auth)
            .json()
            .get("results")
        ),
        10,
        "the tracks open when analysis stopped, kept for search",
    )
    assert kept[0]["class"] == "person"
    assert kept[0]["thumbnail_url"]


def test_a_bad_plan_is_refused_naming_the_zone(client: TestClient, auth: dict[str, str], clip: Path) -> None:
    camera_id = client.post("/api/v1/cameras", json={"name": "gate", "source_url": clip.as_uri()}, headers=auth).json()[
        "id"
    ]
    twisted = {"id": "bow", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}
    answer = client.patch(
        f"/api/v1/cameras/{camera_id}", json={"analytics": {"enabled": True, "zones": [twisted]}}, headers=auth
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "bad_zone"
    assert "zone bow" in answer.json()["detail"]
    assert not client.get(f"/api/v1/cameras/{camera_id}/analytics", headers=auth).json()["enabled"]
    assert client.get("/api/v1/events/999/snapshot.jpg", headers=auth).status_code == 404
