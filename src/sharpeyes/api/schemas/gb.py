"""GB/T 28181 devices, their catalogs and PTZ as the API shows them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.services.gb import PTZ_ACTIONS, ChannelView


class GbDeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_id: str
    name: str
    status: Literal["online", "offline", "unregistered"]
    transport: str
    address: str
    manufacturer: str
    model: str
    channels: int
    """Items of its catalog as last reported (video channels and tree nodes)."""
    registered_at: datetime | None
    expires_at: datetime | None
    last_keepalive: datetime | None


class GbDeviceStatusOut(BaseModel):
    device_id: str
    online: bool
    working: bool
    """The device says its status is OK."""
    recording: bool
    device_time: str | None
    """The device's clock, as it says it (local time)."""
    fields: dict[str, str]
    """Everything the answer held, as sent."""


class GbChannelOut(BaseModel):
    channel_id: str
    name: str
    is_camera: bool
    camera_id: str | None
    """The camera it became (video channels)."""
    status: str
    parent_id: str
    civil_code: str
    business_group_id: str
    manufacturer: str
    model: str
    address: str
    longitude: float | None
    latitude: float | None
    ptz_type: int | None

    @classmethod
    def of(cls, view: ChannelView) -> "GbChannelOut":
        channel = view.channel
        return cls(
            channel_id=channel.channel_id,
            name=channel.name,
            is_camera=channel.is_camera,
            camera_id=view.camera_id,
            status=channel.status,
            parent_id=channel.parent_id,
            civil_code=channel.civil_code,
            business_group_id=channel.business_group_id,
            manufacturer=channel.manufacturer,
            model=channel.model,
            address=channel.address,
            longitude=channel.longitude,
            latitude=channel.latitude,
            ptz_type=channel.ptz_type,
        )


class PtzIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"action": "left", "speed": 0.5}]})

    action: str = Field(description=f"One of: {', '.join(sorted(PTZ_ACTIONS))}.", max_length=20)
    speed: float = Field(0.5, ge=0.0, le=1.0, description="0–1 of the camera's fastest.")
    preset: int | None = Field(None, ge=1, le=255, description="The preset number, for preset_set/call/delete.")


class SuperiorIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "superior_id": "34000000002000000001",
                    "domain": "3400000000",
                    "host": "10.1.1.1",
                    "port": 5060,
                    "transport": "UDP",
                    "password": "…",
                    "area_codes": ["340202"],
                }
            ]
        },
    )

    superior_id: str = Field(pattern=r"^[0-9]{20}$", description="The superior platform's 20-digit id.")
    domain: str = Field(pattern=r"^[0-9]{10}$", description="Its 10-digit SIP domain.")
    host: str = Field(min_length=1, max_length=253, pattern=r"^[0-9A-Za-z.:\-]+$")
    port: int = Field(5060, ge=1, le=65535)
    transport: Literal["UDP", "TCP"] = "UDP"
    password: str = Field(min_length=1, max_length=128, description="The password it expects (kept, never shown).")
    expires: int = Field(3600, ge=60, le=86_400, description="Registration lifetime asked for, seconds.")
    keepalive_s: float = Field(60.0, ge=5, le=3600)
    camera_ids: list[str] = Field(default_factory=list, max_length=100_000, description="Cameras offered to it.")
    area_codes: list[str] = Field(
        default_factory=list, max_length=10_000, description="Areas whose cameras (subtrees included) it is offered."
    )


class SuperiorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    superior_id: str
    domain: str
    host: str
    port: int
    transport: str
    status: Literal["registering", "registered", "failed", "stopped"]
    reason: str
    camera_ids: list[str]
    area_codes: list[str]
    playing: list[str]
    created_at: datetime | None
    registered_at: datetime | None
    last_keepalive: datetime | None
    """The last keepalive the superior answered."""
