"""GB/T 28181 devices and lower platforms registered to this platform: the SIP server's state as the API shows it.
The server runs only when ``gb28181.enabled``; what a device's channels are (Catalog) comes next."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sharpeyes.core.errors import UnavailableError
from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181.server import Device, SipServer

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceView:
    device_id: str
    status: str
    """online or offline."""
    transport: str
    address: str
    registered_at: datetime
    expires_at: datetime
    last_keepalive: datetime | None


class GbService:
    def __init__(self, settings: Gb28181Settings) -> None:
        self._settings = settings
        self._server = SipServer(settings) if settings.enabled else None

    @property
    def port(self) -> int | None:
        """The SIP port listened on (None: off)."""
        return self._server.port if self._server is not None else None

    async def start(self) -> None:
        if self._server is not None:
            await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    def devices(self) -> list[DeviceView]:
        if self._server is None:
            raise UnavailableError(
                "GB/T 28181 is off: set gb28181.enabled and gb28181.password / 未启用国标接入", code="gb_off"
            )
        now, wall = self._server.clock(), datetime.now(UTC)  # the server counts on a monotonic clock
        return [
            self._view(device, lambda moment: wall - timedelta(seconds=now - moment))
            for device in self._server.devices()
        ]

    @staticmethod
    def _view(device: Device, at: Callable[[float], datetime]) -> DeviceView:

        return DeviceView(
            device_id=device.device_id,
            status="online" if device.online else "offline",
            transport=device.transport,
            address=f"{device.host}:{device.port}",
            registered_at=at(device.registered_at),
            expires_at=at(device.expires_at),
            last_keepalive=at(device.last_keepalive) if device.last_keepalive is not None else None,
        )
