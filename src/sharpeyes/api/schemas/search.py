"""Search requests and answers."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sharpeyes.api.schemas.common import ROW_ID_MAX, Moment
from sharpeyes.core.errors import InvalidInputError
from sharpeyes.services.search import SearchRequest


class SearchIn(BaseModel):
    text: str = Field(
        "", max_length=2000, description='Chinese or English, e.g. "穿红衣服背蓝书包的小孩", "white van".'
    )
    area: str | None = Field(None, max_length=32, description="Only cameras in this area (code) or below it.")
    camera_ids: list[str] = Field(default_factory=list, max_length=1000)
    start: Moment | None = Field(None, description="ISO 8601 with offset; default from the text, else a week ago.")
    end: Moment | None = None
    classes: list[str] = Field(default_factory=list, max_length=20, description="COCO class names.")
    case_id: str | None = Field(None, max_length=64, description="The case the search serves (案件编号).")
    reason: str | None = Field(None, max_length=500, description="Or the written reason (事由).")
    limit: int = Field(50, ge=1, le=200)
    image_base64: str | None = Field(
        None, max_length=14_000_000, description="An example picture (JPEG, PNG…, at most 10 MB): look-alikes first."
    )
    track_id: int | None = Field(None, ge=1, le=ROW_ID_MAX, description="Or a track whose picture is the example.")

    def to_request(self) -> SearchRequest:
        try:
            image = base64.b64decode(self.image_base64, validate=True) if self.image_base64 else None
        except ValueError as err:  # binascii.Error, or characters outside ASCII
            raise InvalidInputError(
                f"image_base64 is not base64 ({err})", code="bad_image", field="image_base64"
            ) from err
        return SearchRequest(
            text=self.text,
            area=self.area,
            camera_ids=tuple(self.camera_ids),
            start=self.start,
            end=self.end,
            classes=tuple(self.classes),
            case_id=self.case_id,
            reason=self.reason,
            limit=self.limit,
            image=image,
            track_id=self.track_id,
        )


class SearchResultOut(BaseModel):
    track_id: int
    camera_id: str
    class_: str = Field(alias="class", serialization_alias="class")
    start: datetime
    end: datetime
    score: float
    thumbnail_url: str | None
    playback_url: str = Field(description="The recording around the track (HLS).")
    attributes: dict[str, Any]


class SearchOut(BaseModel):
    results: list[SearchResultOut]
    understood: dict[str, Any]
    ignored_terms: list[str]
