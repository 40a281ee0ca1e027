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
