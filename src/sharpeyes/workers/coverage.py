"""Keeps one coverage snapshot per day for the trend charts."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sharpeyes.core.clock import utcnow
from sharpeyes.services.coverage import CoverageService

logger = logging.getLogger(__name__)


class CoverageRecorder:
    def __init__(self, coverage: CoverageService, *, check_interval_s: float = 600.0) -> None:
        self._coverage = coverage
        self._interval_s = check_interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="coverage-recorder")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def record_if_due(self) -> bool:
        """Take today's snapshot unless there is one; True when one was taken."""
        today = utcnow().date()
        if await asyncio.to_thread(self._coverage.has_snapshot, today):
            return False
        areas = await asyncio.to_thread(self._coverage.snapshot_day, today)
        logger.info("coverage figures of %s recorded for %d areas", today.isoformat(), areas)
        return True

    async def _loop(self) -> None:
        while True:
            try:
                await self.record_if_due()
            except Exception:
                logger.exception("could not record today's coverage figures; will retry")
            await asyncio.sleep(self._interval_s)
