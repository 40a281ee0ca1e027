"""Camera domain types."""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

RtspTransport = Literal["tcp", "udp"]
Profile = Literal["main", "sub"]
"""A camera's main stream (主码流: full resolution, recorded) or sub-stream (子码流: smaller, for walls and
analysis). A camera without a sub-stream serves its main stream for both."""
PROFILES: tuple[Profile, ...] = ("main", "sub")

ONLINE_REASON = "receiving video"
CAMERA_ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


class CameraStatus(enum.StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"
    IDLE = "idle"
    """Not streaming because nobody needs it; see the reason for what the last check found."""


@dataclass(frozen=True, slots=True)
class Camera:
    """One video channel. Identity is the id, never the address."""

    id: str
    name: str
    source_url: str | None
    """None: built but not yet networked (联网)."""
    rtsp_transport: RtspTransport
    created_at: datetime
    area_code: str | None = None
    site_id: int | None = None
    longitude: float | None = None
    latitude: float | None = None
    sub_source_url: str | None = None
    """The sub-stream, when the camera has one."""


@dataclass(frozen=True, slots=True)
class CameraState:
    """What a stream session knows about its camera right now."""

    status: CameraStatus
    reason: str
    since: datetime
    last_frame_at: datetime | None = None


def new_camera_id() -> str:
    """A random 16-hex-digit id for cameras that bring no hardware/channel id of their own."""
    return secrets.token_hex(8)
