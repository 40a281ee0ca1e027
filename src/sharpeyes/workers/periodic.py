"""Jobs that run every so often in a thread, for as long as the server runs; a failure is logged and retried."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_s: float
    run: Callable[[], object]


class PeriodicJobs:
    def __init__(self, jobs: Sequence[Job]) -> None:
        self._jobs = tuple(jobs)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job), name=job.name) for job in self._jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _loop(job: Job) -> None:
        while True:
            try:
                await asyncio.to_thread(job.run)
            except Exception:
                logger.exception("%s failed; it runs again in %.0f s", job.name, job.every_s)
            await asyncio.sleep(job.every_s)
