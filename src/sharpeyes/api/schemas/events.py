"""An event of the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from sharpeyes.core.events import EventType


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: EventType
    at: datetime
    camera_id: str | None
    detail: str
    data: dict[str, Any]
