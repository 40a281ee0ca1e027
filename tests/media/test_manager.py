"""On-demand streams: started by their first user, stopped after the last one leaves, idle cameras checked."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sharpeyes.core.cameras import Camera, CameraState, CameraStatus
from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.settings import SnapshotSettings, StreamSettings
from sharpeyes.media.manager import IDLE_REASON, StreamManager
from sharpeyes.media.recorder import RecordedSegment, RecorderConfig
from sharpeyes.protocols.sources import PacketSource, SourceOptions, open_source
from tests.support.clips import make_test_clip
from tests.support.waiting import wait_for

ON_DEMAND = StreamSettings(linger_s=0.5, check_interval_s=600, open_timeout_s=2, read_timeout_s=2)


class _Sink:
    def segment_done(self, segment: RecordedSegment) -> None:
        pass

    def gap(self, camera_id: str, start: datetime, end: datetime, reason: str) -> None:
        pass


def _camera(source: str, camera_id: str = "cam-1", sub: str | None = None) -> Camera:
    return Camera(camera_id, "gate", source, "tcp", datetime.now(UTC), sub_source_url=sub)


@pytest.fixture
def manager() -> Iterator[StreamManager]:
    manager = StreamManager(ON_DEMAND, SnapshotSettings())
    yield manager
    manager.shutdown()


def _tended_until_idle(manager: StreamManager, camera_id: str) -> CameraState:
    def idle() -> CameraState | None:
        manager.tend()
        state = manager.state(camera_id)
        return state if camera_id not in manager.streaming_ids() else None

    return wait_for(idle, 10, "the stream to stop")


def test_a_new_camera_is_checked_then_rests_and_still_counts_online(manager: StreamManager, clip: Path) -> None:
    heard: list[str] = []
    manager.add_status_listener(lambda _camera_id, state: heard.append(state.status.value))
    manager.register(_camera(clip.as_uri()))
    assert manager.streaming_ids() == {"cam-1"}, "a new camera is checked at once"
    wait_for(lambda: heard[-1:] == ["online"], 5, "online")
    state = _tended_until_idle(manager, "cam-1")
    assert state.status is CameraStatus.IDLE
    assert state.reason == IDLE_REASON
    assert state.last_frame_at is not None
    assert manager.online_camera_ids() == {"cam-1"}, "idle but answering: it counts as online"
    manager.tend()
    assert manager.streaming_ids() == set(), "not checked again before check_interval_s"
    assert heard == ["connecting", "online"], "a rest is not a status change"


def test_a_viewer_starts_the_stream_and_it_stops_linger_s_after_the_viewer_leaves(
    manager: StreamManager, clip: Path, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str] = []
    manager.add_status_listener(lambda _camera_id, state: heard.append(state.status.value))
    manager.register(_camera(clip.as_uri()))
    _tended_until_idle(manager, "cam-1")
    session = manager.acquire("cam-1")
    viewer = session.relay.subscribe("viewer")
    assert viewer.get(5.0) is not None, "video flows to the viewer"
    wait_for(lambda: manager.state("cam-1").status is CameraStatus.ONLINE, 5, "online")  # type: ignore[union-attr]
    manager.tend()
    assert manager.streaming_ids() == {"cam-1"}, "kept while watched"
    manager.release(session)
    manager.tend()
    assert manager.streaming_ids() == {"cam-1"}, "lingers after the viewer leaves"
    with caplog.at_level(logging.INFO, logger="sharpeyes.media.session"):
        _tended_until_idle(manager, "cam-1")
        assert session.join(3), "the upstream connection is closed"
    assert "nobody needs the stream now" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "a rest is no fault"
    assert heard == ["connecting", "online"]


def test_a_snapshot_starts_an_idle_camera_and_waits_for_its_picture(manager: StreamManager, clip: Path) -> None:
    manager.register(_camera(clip.as_uri()))
    _tended_until_idle(manager, "cam-1")
    snapshot = manager.snapshot("cam-1")
    assert snapshot.jpeg.startswith(b"\xff\xd8")
    _tended_until_idle(manager, "cam-1")


def test_a_recorded_camera_is_never_stopped_for_being_unwatched(
    manager: StreamManager, clip: Path, tmp_path: Path
) -> None:
    manager.register(_camera(clip.as_uri()))
    _tended_until_idle(manager, "cam-1")
    assert manager.record("cam-1", RecorderConfig(tmp_path, 2.0, 3.0), _Sink())
    wait_for(lambda: manager.state("cam-1").status is CameraStatus.ONLINE, 5, "online")  # type: ignore[union-attr]
    for _ in range(8):  # longer than linger_s
        manager.tend()
        assert manager.streaming_ids() == {"cam-1"}
        time.sleep(0.1)
    manager.stop_recording("cam-1")
    _tended_until_idle(manager, "cam-1")


def test_a_failing_camera_keeps_its_reason_while_idle(manager: StreamManager) -> None:
    manager.register(_camera("rtsp://127.0.0.1:9/none"))
    state = _tended_until_idle(manager, "cam-1")
    assert state.status is CameraStatus.OFFLINE
    assert "retrying" in state.reason
    assert manager.online_camera_ids() == set()


def test_unknown_cameras_cannot_be_used(manager: StreamManager) -> None:
    with pytest.raises(UnavailableError) as raised:
        manager.acquire("nobody")
    assert raised.value.code == "no_session"


def test_always_on_streams_are_never_rested(clip: Path) -> None:
    manager = StreamManager(ON_DEMAND.model_copy(update={"on_demand": False}), SnapshotSettings())
    try:
        manager.register(_camera(clip.as_uri()))
        wait_for(lambda: manager.state("cam-1").status is CameraStatus.ONLINE, 5, "online")  # type: ignore[union-attr]
        for _ in range(3):
            manager.tend()
        assert manager.streaming_ids() == {"cam-1"}
    finally:
        manager.shutdown()


def test_the_sub_stream_is_its_own_stream_and_the_main_stream_stands_in_without_one(
    manager: StreamManager, clip: Path, tmp_path: Path
) -> None:
    small = make_test_clip(tmp_path / "sub.mp4", duration_s=20, size_wh=(160, 120))
    manager.register(_camera(clip.as_uri(), sub=small.as_uri()))
    _tended_until_idle(manager, "cam-1")
    sub = manager.acquire("cam-1", "sub")
    assert sub.profile == "sub"
    assert manager.get("cam-1") is None, "the main stream stays idle"
    snapshot = manager.snapshot("cam-1", "sub")
    assert (snapshot.width, snapshot.height) == (160, 120)
    assert manager.state("cam-1").status is CameraStatus.IDLE, "a camera's status is its main stream's"  # type: ignore[union-attr]
    manager.release(sub)
    _tended_until_idle(manager, "cam-1")
    assert sub.join(3)

    manager.register(_camera(clip.as_uri()))  # the sub-stream removed
    stand_in = manager.acquire("cam-1", "sub")
    assert stand_in.profile == "main"
    manager.release(stand_in)


def test_a_camera_whose_status_can_be_probed_is_not_streamed_to_check_it(clip: Path, tmp_path: Path) -> None:
    """A GB/T 28181 channel's status is its device's: probed, never checked by asking for video."""
    device_online = {"value": True}

    def probe(url: str) -> CameraState | None:
        if not url.endswith("probed.mp4"):
            return None
        status = CameraStatus.ONLINE if device_online["value"] else CameraStatus.OFFLINE
        return CameraState(status, "the device says", datetime.now(UTC))

    opened: list[str] = []

    def opener(url: str, options: SourceOptions) -> PacketSource:
        opened.append(url)
        return open_source(url, options)

    manager = StreamManager(ON_DEMAND, SnapshotSettings(), opener, probe)
    heard: list[tuple[str, str]] = []
    manager.add_status_listener(lambda camera_id, state: heard.append((camera_id, state.status.value)))
    try:
        probed = tmp_path / "probed.mp4"
        probed.symlink_to(clip)
        manager.register(_camera(probed.as_uri(), "gb-1"))
        manager.register(_camera(clip.as_uri(), "rtsp-like"))
        manager.tend()
        assert manager.streaming_ids() == {"rtsp-like"}, "only the camera that cannot be probed is checked"
        assert ("gb-1", "online") in heard
        state = manager.state("gb-1")
        assert state is not None
        assert state.status is CameraStatus.IDLE
        assert "gb-1" in manager.online_camera_ids()
        device_online["value"] = False
        manager.tend(time.monotonic() + 11)
        assert ("gb-1", "offline") in heard
        offline = manager.state("gb-1")
        assert offline is not None
        assert (offline.status, offline.reason) == (CameraStatus.OFFLINE, "the device says")
        session = manager.acquire("gb-1")  # a viewer: now it streams
        wait_for(lambda: probed.as_uri() in opened, 5, "the probed camera streamed for its viewer")
        manager.release(session)
    finally:
        manager.shutdown()
