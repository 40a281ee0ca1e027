from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.core.cameras import CameraState, CameraStatus
from sharpeyes.core.errors import SourceAuthError, SourceUnreachableError
from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.core.settings import StreamSettings
from sharpeyes.media.session import StreamSession
from sharpeyes.media.snapshots import Snapshot, SnapshotTaker
from sharpeyes.protocols.sources import PacketSource, SourceOptions
from tests.support.waiting import wait_for

FAST = StreamSettings(reconnect_initial_s=0.1, reconnect_max_s=0.4, read_timeout_s=2.0, open_timeout_s=2.0)


class _Refusing:
    """A source that always fails to open, recording when it was asked."""

    def __init__(self, error: Exception, attempts: list[float]) -> None:
        self._error = error
        self._attempts = attempts

    def open(self) -> StreamInfo:
        self._attempts.append(time.monotonic())
        raise self._error

    def packets(self) -> Iterator[EncodedPacket]:
        raise AssertionError("never opened")

    def close(self) -> None:
        pass


def _session(url: str, opener: object | None = None) -> StreamSession:
    kwargs = {"opener": opener} if opener is not None else {}
    return StreamSession("cam-1", url, SourceOptions(), FAST, SnapshotTaker(80), **kwargs)  # type: ignore[arg-type]


def test_reconnect_backoff_doubles_up_to_the_cap() -> None:
    attempts: list[float] = []

    def opener(url: str, options: SourceOptions) -> PacketSource:
        return _Refusing(SourceUnreachableError("unreachable: connection refused"), attempts)

    session = _session("rtsp://127.0.0.1:9/x", opener)
    session.start()
    wait_for(lambda: len(attempts) >= 6, 5, "six attempts")
    session.stop()
    assert session.join(2)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    for gap, expected in zip(gaps, [0.1, 0.2, 0.4, 0.4, 0.4], strict=False):
        assert expected * 0.9 <= gap < expected + 0.3, gaps


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (SourceUnreachableError("unreachable: connection refused"), CameraStatus.OFFLINE),
        (SourceAuthError("authentication failed"), CameraStatus.ERROR),
    ],
)
def test_failures_become_a_status_with_a_reason(error: Exception, status: CameraStatus) -> None:
    def opener(url: str, options: SourceOptions) -> PacketSource:
        return _Refusing(error, [])

    session = _session("rtsp://127.0.0.1:9/x", opener)
    assert session.state.status is CameraStatus.CONNECTING
    session.start()
    state = wait_for(lambda: _state_if(session, status), 3, status.value)
    session.stop()
    assert str(error) in state.reason
    assert "retrying in" in state.reason


def test_file_camera_online_with_snapshot_and_fan_out(clip: Path) -> None:
    session = _session(clip.as_uri())
    viewer = session.relay.subscribe("viewer")
    session.start()
    wait_for(lambda: session.state.status is CameraStatus.ONLINE, 5, "online")
    assert viewer.get(2.0) is not None
    snapshot = wait_for(lambda: _try_snapshot(session), 5, "a snapshot")
    assert (snapshot.width, snapshot.height) == (320, 240)
    assert snapshot.jpeg.startswith(b"\xff\xd8")
    state = session.state
    assert state.last_frame_at is not None
    session.stop()
    assert session.join(3)


def _state_if(session: StreamSession, status: CameraStatus) -> CameraState | None:
    state = session.state
    return state if state.status is status else None


def _try_snapshot(session: StreamSession) -> Snapshot | None:
    try:
        return session.snapshot()
    except Exception:
        return None
