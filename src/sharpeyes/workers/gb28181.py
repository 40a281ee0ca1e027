"""Runs the GB/T 28181 SIP server while the platform serves (when enabled)."""

from __future__ import annotations

from sharpeyes.services.gb import GbService


class SipWorker:
    def __init__(self, gb: GbService) -> None:
        self._gb = gb

    async def start(self) -> None:
        await self._gb.start()

    async def stop(self) -> None:
        await self._gb.stop()
