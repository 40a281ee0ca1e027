"""Keeps the stream manager in step with the camera registry (also cameras added by the command line), and has it
stop the streams nobody needs and check the idle cameras."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sharpeyes.media.manager import StreamManager
from sharpeyes.services.cameras import CameraService

logger = logging.getLogger(__name__)


class StreamSupervisor:
    def __init__(self, cameras: CameraService, streams: StreamManager, *, interval_s: float = 2.0) -> None:
        self._cameras = cameras
        self._streams = streams
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self._cameras.sync_sessions)
        self._task = asyncio.create_task(self._loop(), name="stream-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._streams.shutdown)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await asyncio.to_thread(self._cameras.sync_sessions)
                await asyncio.to_thread(self._streams.tend)
            except Exception:  # the loop must outlive any one failure
                logger.exception("could not reconcile stream sessions with the camera registry; will retry")
