from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import Runtime, build_runtime
from sharpeyes.services.cameras import CameraDraft
from sharpeyes.workers.streams import StreamSupervisor
from tests.support.waiting import wait_for


def test_cameras_added_elsewhere_get_sessions_and_removed_ones_lose_them(runtime: Runtime, clip: Path) -> None:
    assert runtime.streams is not None
    streams = runtime.streams
    before = runtime.services.cameras.add(CameraDraft("before start", clip.as_uri()))
    streams.forget(before.id)  # as if the server had just started
    supervisor = StreamSupervisor(runtime.services.cameras, streams, interval_s=0.2)
    # a second process (the command line) writes to the same store
    admin = build_runtime(runtime.settings, with_streams=False)
    with TestClient(create_app(runtime.settings, runtime.services, workers=[supervisor])):
        assert before.id in streams.camera_ids(), "sessions start with the server"
        added = admin.services.cameras.add(CameraDraft("added by the CLI", clip.as_uri()))
        wait_for(lambda: added.id in streams.camera_ids(), 5, "a session for the new camera")
        admin.services.cameras.remove(before.id)
        wait_for(lambda: before.id not in streams.camera_ids(), 5, "the removed camera's session to stop")
    assert streams.streaming_ids() == set(), "stopping the app stops every session"
    admin.engine.dispose()
