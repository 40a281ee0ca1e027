"""Camera request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.api.schemas.analysis import AnalysisPlanIn
from sharpeyes.api.schemas.common import CameraStatusOut
from sharpeyes.api.schemas.recordings import RecordingPlanIn, RecordingPlanOut
from sharpeyes.core.areas import SiteType

SOURCE_DOC = "rtsp://, rtsps://, http(s):// or file:/// (a simulated camera); empty: built but not networked."
SUB_SOURCE_DOC = "The sub-stream (子码流, lower resolution) for walls and analysis; empty: the main stream serves."


class CameraCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Name, unique within its area, e.g. 东门 / East gate.")
    source_url: str | None = Field(None, max_length=2000, description=SOURCE_DOC)
    sub_source_url: str | None = Field(None, max_length=2000, description=SUB_SOURCE_DOC)
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTP transport for RTSP sources.")
    id: str | None = Field(None, description="Own id (e.g. a 20-digit GB/T 28181 id); generated if absent.")
    area_code: str | None = Field(None, max_length=12, description="Area the camera stands in (GB/T 2260 code).")
    site_name: str | None = Field(None, max_length=200, description="Site (school, square…) in that area.")
    site_type: SiteType | None = Field(None, description="Type of the site, when it is new.")
    longitude: float | None = Field(None, description="WGS-84 longitude.")
    latitude: float | None = Field(None, description="WGS-84 latitude.")


class CameraPatch(BaseModel):
    """Only the fields given change; null clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    source_url: str | None = Field(None, max_length=2000, description=SOURCE_DOC)
    sub_source_url: str | None = Field(None, max_length=2000, description=SUB_SOURCE_DOC)
    rtsp_transport: Literal["tcp", "udp"] | None = None
    area_code: str | None = Field(None, max_length=12)
    site_name: str | None = Field(None, max_length=200)
    site_type: SiteType | None = None
    longitude: float | None = None
    latitude: float | None = None
    recording: RecordingPlanIn | None = Field(None, description="The recording plan.")
    analytics: AnalysisPlanIn | None = Field(None, description="The analysis plan (zones, rules).")


class CameraOut(BaseModel):
    id: str
    name: str
    source_url: str | None = Field(description="The source with its password replaced by ***; null: not networked.")
    sub_source_url: str | None = Field(description="The sub-stream (子码流), password replaced by ***; null: none.")
    rtsp_transport: Literal["tcp", "udp"]
    created_at: datetime
    area_code: str | None
    site_name: str | None
    site_type: SiteType | None
    longitude: float | None
    latitude: float | None
    status: CameraStatusOut
    status_reason: str = Field(description="Why the camera is in this status, for a person to act on.")
    status_since: datetime | None
    last_frame_at: datetime | None
    recording: RecordingPlanOut
