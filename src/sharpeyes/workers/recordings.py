"""Keeps planned recordings running (every minute) and recordings within their retention and disk (every 10)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sharpeyes.services.recordings import RecordingService

logger = logging.getLogger(__name__)


class RecordingKeeper:
    def __init__(self, recordings: RecordingService, *, reconcile_s: float = 60.0, retention_s: float = 600.0) -> None:
        self._recordings = recordings
        self._reconcile_s = reconcile_s
        self._retention_s = retention_s
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._every(self._reconcile_s, self._recordings.reconcile), name="recording-reconciler"
            ),
            asyncio.create_task(self._every(self._retention_s, self._recordings.apply_retention), name="retention"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _every(self, interval_s: float, job: Callable[[], object]) -> None:
        while True:
            try:
                await asyncio.to_thread(job)
            except Exception:
                logger.exception("recording job %s failed; it runs again in %.0f s", job, interval_s)
            await asyncio.sleep(interval_s)
