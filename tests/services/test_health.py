from __future__ import annotations

from datetime import timedelta

import pytest

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.cameras import CameraState, CameraStatus
from sharpeyes.core.clock import utcnow
from sharpeyes.core.events import EventType
from sharpeyes.services.camera_rules import CameraDraft


@pytest.fixture
def camera_id(runtime: Runtime) -> str:
    return runtime.services.cameras.add(CameraDraft(name="flappy", source_url=None)).id


def test_flapping_raises_one_alert_and_clears_when_calm(
    runtime: Runtime, camera_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = runtime.services.health
    start = utcnow() - timedelta(minutes=5)
    for n in range(12):  # twelve changes in twelve seconds: well past the six-in-ten-minutes threshold
        status = CameraStatus.ONLINE if n % 2 else CameraStatus.OFFLINE
        health.status_changed(camera_id, CameraState(status, f"change {n}", start + timedelta(seconds=n)))
    report = health.health(camera_id, hours=1)
    assert report.flapping
    assert len([a for a in report.alerts if a.kind == "flapping"]) == 1, "one alert, not one per change"
    assert [e.reason for e in report.history] == [f"change {n}" for n in range(12)]

    later = utcnow() + timedelta(minutes=20)
    monkeypatch.setattr("sharpeyes.services.health.utcnow", lambda: later)
    assert health.clear_calm_alerts() == 1, "the background job clears it without anyone asking"
    calm = health.health(camera_id, hours=1)
    assert not calm.flapping
    assert calm.alerts[0].cleared_at == later
    events = runtime.services.events.find(start, later + timedelta(seconds=1), camera_id=camera_id)
    assert [e.type for e in events] == [EventType.CAMERA_CALM, EventType.CAMERA_FLAPPING]
    assert events[1].data["changes"] >= 6


def test_online_share_of_the_period(runtime: Runtime, camera_id: str) -> None:
    health = runtime.services.health
    now = utcnow()
    health.status_changed(camera_id, CameraState(CameraStatus.ONLINE, "receiving video", now - timedelta(minutes=60)))
    health.status_changed(camera_id, CameraState(CameraStatus.OFFLINE, "stalled", now - timedelta(minutes=30)))
    report = health.health(camera_id, hours=1)
    assert report.online_ratio == pytest.approx(0.5, abs=0.01)
    assert not report.flapping
