"""GB/T 28181 devices and lower platforms registered to this platform, the items of their catalogs, and the
superior platforms this one registers with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sharpeyes.core.gb_ids import camera_id_problem


@dataclass(frozen=True, slots=True)
class GbChannel:
    """One item of a device's catalog: a video channel, or a node of its tree (area, business group, organisation)."""

    device_id: str
    """The device (or lower platform) whose catalog lists it."""
    channel_id: str
    name: str
    parent_id: str = ""
    """The item above it (a device, an organisation or a business group); several are comma-separated at times."""
    civil_code: str = ""
    """The administrative area code (GB/T 2260, 2–8 digits) the channel is in."""
    business_group_id: str = ""
    manufacturer: str = ""
    model: str = ""
    address: str = ""
    longitude: float | None = None
    latitude: float | None = None
    status: str = ""
    """ON or OFF, as the device reports it."""
    ptz_type: int | None = None
    """1 dome, 2 half-dome, 3 fixed, 4 handheld; None: not said."""

    @property
    def is_camera(self) -> bool:
        return camera_id_problem(self.channel_id) is None

    @property
    def online(self) -> bool:
        return self.status.upper() in ("ON", "ONLINE", "OK")


@dataclass(frozen=True, slots=True)
class GbDevice:
    """What the platform keeps of a device between its registrations."""

    device_id: str
    name: str
    manufacturer: str
    model: str
    firmware: str
    transport: str
    address: str
    first_seen_at: datetime
    last_seen_at: datetime
    channels: int


@dataclass(frozen=True, slots=True)
class SuperiorPlatform:
    """A superior platform this one registers with (cascade up): where it is, the password it expects, how
    often to register and keep alive, and what it is offered (the cameras named, and those of the areas named with
    their subtrees; both empty: every GB/T 28181 camera)."""

    superior_id: str
    domain: str
    host: str
    port: int
    transport: str
    password: str
    expires: int = 3600
    keepalive_s: float = 60.0
    camera_ids: list[str] = field(default_factory=list)
    area_codes: list[str] = field(default_factory=list)
    created_at: datetime | None = None
