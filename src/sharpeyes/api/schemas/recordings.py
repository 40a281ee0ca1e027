"""Recording plans, recordings and gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.core.recording import RecordingMode, RecordingPlan, parse_window


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[int] = Field(description="ISO weekdays, 1 = Monday … 7 = Sunday.")
    start: str = Field(description="Local start time HH:MM (recordings.timezone).")
    end: str = Field(description="Local end time HH:MM; before start runs past midnight.")


class RecordingPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: RecordingMode
    windows: list[WindowIn] = Field(default_factory=list, description="For mode scheduled.")
    retention_days: int | None = Field(None, ge=1, le=3650, description="Absent: recordings.retention_days.")
    priority: int = Field(0, ge=-100, le=100, description="Low priority loses old recordings first on a full disk.")

    def to_plan(self) -> RecordingPlan:
        windows = tuple(parse_window(w.days, w.start, w.end) for w in self.windows)
        return RecordingPlan(self.mode, windows, self.retention_days, self.priority)


class WindowOut(BaseModel):
    days: list[int]
    start: str
    end: str


class RecordingPlanOut(BaseModel):
    mode: RecordingMode
    windows: list[WindowOut]
    retention_days: int | None
    priority: int

    @classmethod
    def from_plan(cls, plan: RecordingPlan) -> RecordingPlanOut:
        windows = [
            WindowOut(days=sorted(w.days), start=w.start.isoformat("minutes"), end=w.end.isoformat("minutes"))
            for w in plan.windows
        ]
        return cls(mode=plan.mode, windows=windows, retention_days=plan.retention_days, priority=plan.priority)


class SegmentOut(BaseModel):
    id: int
    start: datetime
    end: datetime
    bytes: int
    legal_hold: bool


class GapOut(BaseModel):
    start: datetime
    end: datetime
    reason: str


class DeviceRecordingOut(BaseModel):
    start: datetime
    end: datetime
    type: str
    name: str


class RecordingsOut(BaseModel):
    segments: list[SegmentOut]
    gaps: list[GapOut]
    device_recordings: list[DeviceRecordingOut] = Field(
        default_factory=list, description="With source=device: the recordings the camera's device keeps."
    )


class PlaybackControlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["pause", "resume", "seek", "scale"]
    value: float | None = Field(None, description="seek: seconds from the range's start; scale: speed 0.25–8.")
