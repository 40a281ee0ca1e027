"""Keeps each camera's live analysis running as its plan says (checked every ``interval_s``), and stops it all
before the streams close."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sharpeyes.services.analysis import AnalysisService

logger = logging.getLogger(__name__)


class AnalysisRunner:
    def __init__(self, analysis: AnalysisService, *, interval_s: float = 15.0) -> None:
        self._analysis = analysis
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="analysis-runner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._analysis.shutdown)

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._analysis.reconcile)
            except Exception:
                logger.exception("could not reconcile the analysis workers; will retry")
            await asyncio.sleep(self._interval_s)
