"""GB/T 28181 devices that registered and the catalogs they reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sharpeyes.core.clock import as_utc
from sharpeyes.core.gb_devices import GbChannel, GbDevice, SuperiorPlatform
from sharpeyes.store.models import GbChannelRow, GbDeviceRow, GbSuperiorRow

_CHANNEL_FIELDS = tuple(GbChannel.__dataclass_fields__)


class GbRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def seen(self, device_id: str, transport: str, address: str, at: datetime) -> None:
        """The device registered (first time: it is kept from now on)."""
        row = self._db.get(GbDeviceRow, device_id)
        if row is None:
            blank = {"name": "", "manufacturer": "", "model": "", "firmware": ""}
            self._db.add(
                GbDeviceRow(device_id=device_id, transport=transport, address=address[:80], first_seen_at=at,
                            last_seen_at=at, **blank)
            )  # fmt: skip
            return
        row.transport, row.address, row.last_seen_at = transport, address[:80], at

    def describe(self, device_id: str, name: str, manufacturer: str, model: str, firmware: str) -> None:
        """What the device said of itself (DeviceInfo)."""
        row = self._db.get(GbDeviceRow, device_id)
        if row is not None:
            row.name, row.manufacturer, row.model, row.firmware = (
                name[:64],
                manufacturer[:64],
                model[:64],
                firmware[:64],
            )

    def devices(self) -> list[GbDevice]:
        query = select(GbChannelRow.device_id, func.count()).group_by(GbChannelRow.device_id)
        counts = {device_id: int(count) for device_id, count in self._db.execute(query)}
        rows = self._db.scalars(select(GbDeviceRow).order_by(GbDeviceRow.device_id))
        return [_device(row, counts.get(row.device_id, 0)) for row in rows]

    def device(self, device_id: str) -> GbDevice | None:
        row = self._db.get(GbDeviceRow, device_id)
        if row is None:
            return None
        count = self._db.scalar(select(func.count()).where(GbChannelRow.device_id == device_id))
        return _device(row, int(count or 0))

    def channels(self, device_id: str) -> list[GbChannel]:
        query = select(GbChannelRow).where(GbChannelRow.device_id == device_id).order_by(GbChannelRow.channel_id)
        return [GbChannel(**{name: getattr(row, name) for name in _CHANNEL_FIELDS}) for row in self._db.scalars(query)]

    def keep_channels(self, device_id: str, channels: Sequence[GbChannel], *, whole: bool) -> None:
        """The device's catalog as it answered: ``whole``, it replaces what was kept; else (some parts never
        came) the items that came are added or updated and the others kept. A repeated id keeps its last item."""
        if whole:
            self._db.execute(delete(GbChannelRow).where(GbChannelRow.device_id == device_id))
            self._db.flush()
        latest = {channel.channel_id: channel for channel in channels}
        for channel in latest.values():
            self._db.merge(GbChannelRow(**asdict(channel)))


class SuperiorRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def all(self) -> list[SuperiorPlatform]:
        return [_superior(row) for row in self._db.scalars(select(GbSuperiorRow).order_by(GbSuperiorRow.superior_id))]

    def get(self, superior_id: str) -> SuperiorPlatform | None:
        row = self._db.get(GbSuperiorRow, superior_id)
        return _superior(row) if row is not None else None

    def put(self, superior: SuperiorPlatform) -> None:
        """Add it, or replace the one with its id."""
        self._db.merge(GbSuperiorRow(**asdict(superior)))

    def delete(self, superior_id: str) -> bool:
        row = self._db.get(GbSuperiorRow, superior_id)
        if row is None:
            return False
        self._db.delete(row)
        return True


def _superior(row: GbSuperiorRow) -> SuperiorPlatform:
    return SuperiorPlatform(
        superior_id=row.superior_id,
        domain=row.domain,
        host=row.host,
        port=row.port,
        transport=row.transport,
        password=row.password,
        expires=row.expires,
        keepalive_s=row.keepalive_s,
        camera_ids=list(row.camera_ids),
        area_codes=list(row.area_codes),
        created_at=as_utc(row.created_at),
    )


def _device(row: GbDeviceRow, channels: int) -> GbDevice:
    return GbDevice(
        device_id=row.device_id,
        name=row.name,
        manufacturer=row.manufacturer,
        model=row.model,
        firmware=row.firmware,
        transport=row.transport,
        address=row.address,
        first_seen_at=as_utc(row.first_seen_at),
        last_seen_at=as_utc(row.last_seen_at),
        channels=channels,
    )
