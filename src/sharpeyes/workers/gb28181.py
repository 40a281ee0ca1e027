"""Runs the GB/T 28181 SIP server while the platform serves (when enabled), and the links to superiors."""

from __future__ import annotations

from sharpeyes.services.gb import GbService
from sharpeyes.services.gb_cascade import CascadeService


class SipWorker:
    def __init__(self, gb: GbService, cascade: CascadeService | None = None) -> None:
        self._gb = gb
        self._cascade = cascade

    async def start(self) -> None:
        await self._gb.start()
        if self._cascade is not None:
            await self._cascade.start()

    async def stop(self) -> None:
        await self._gb.stop()
