"""Events: things that happened that a person may need to act on, kept in one timeline."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EventType(enum.StrEnum):
    CAMERA_FLAPPING = "camera.flapping"
    """A camera's status changes too often (one event, not one per change)."""
    CAMERA_CALM = "camera.calm"
    """A flapping camera has stayed steady for the flapping window."""
    QUALITY_FAILED = "camera.quality_failed"
    """The video quality diagnosis found a fault (signal loss, frozen, blur, occlusion, colour cast, dark, bright)."""
    QUALITY_RESTORED = "camera.quality_restored"
    """A camera that failed the diagnosis passes again."""
    STORAGE_LOW = "storage.low_space"
    """The recordings disk fell under its free-space threshold; the oldest segments were evicted."""
    INTRUSION = "analytics.intrusion"
    LOITERING = "analytics.loitering"
    CROWD = "analytics.crowd"
    LEFT_OBJECT = "analytics.left_object"
    LINE_CROSSING = "analytics.line_crossing"
    """Analytics rules broken (``data`` has the rule, track ids, boxes, snapshot and clip)."""
    DEVICE_ALARM = "device.alarm"
    """An alarm a GB/T 28181 device reported (its method, type, priority and description in ``data``)."""


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    at: datetime
    detail: str
    """One line a person reads."""
    camera_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    """Machine-readable particulars (JSON)."""
    id: int | None = None
