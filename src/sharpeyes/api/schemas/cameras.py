"""Camera request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CameraCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Unique display name, e.g. 东门 / East gate.")
    source_url: str = Field(
        min_length=1, max_length=2000, description="rtsp://, rtsps://, http(s):// or file:/// (a simulated camera)."
    )
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTP transport for RTSP sources.")
    id: str | None = Field(None, description="Own id (e.g. a 20-digit GB/T 28181 id); generated if absent.")


class CameraOut(BaseModel):
    id: str
    name: str
    source_url: str = Field(description="The source with its password replaced by ***.")
    rtsp_transport: Literal["tcp", "udp"]
    created_at: datetime
    status: Literal["connecting", "online", "offline", "error"]
    status_reason: str = Field(description="Why the camera is in this status, for a person to act on.")
    status_since: datetime | None
    last_frame_at: datetime | None
