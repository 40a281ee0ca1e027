"""Evidence exports as the API takes and shows them."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.api.schemas.common import Moment
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.services.exports import ExportJob, ExportRequest


class ExportIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "camera_id": "34020000001310000001",
                    "start": "2026-11-29T08:00:00+08:00",
                    "end": "2026-11-29T08:05:00+08:00",
                    "case_id": "JH-2026-1129",
                    "reason": "寻找走失儿童",
                }
            ]
        },
    )

    camera_id: str = Field(max_length=64)
    start: Moment
    end: Moment
    case_id: str | None = Field(None, max_length=64)
    reason: str = Field(min_length=1, max_length=500, description="Why it is exported (kept in the package).")
    lift_masks: bool = Field(
        False, description="Export without the camera's privacy masks (needs mask.lift; audited as mask.lift)."
    )
    watermark: bool = Field(False, description="Paint the exporter, the time of export and the case into the video.")

    def to_request(self, masks: tuple[MaskPolygon, ...]) -> ExportRequest:
        """The request, with the privacy ``masks`` to paint in (none when lifted)."""
        return ExportRequest(self.camera_id, self.start, self.end, self.reason, self.case_id, masks, self.watermark)


class ExportOut(BaseModel):
    id: str
    status: str
    """running, done or failed."""
    detail: str
    camera_id: str
    start: datetime
    end: datetime
    case_id: str | None
    reason: str
    created_at: datetime
    package_bytes: int
    package_sha256: str
    masked: bool
    """Privacy masks painted in."""
    watermark: bool

    @classmethod
    def of(cls, job: ExportJob) -> "ExportOut":
        request = job.request
        return cls(id=job.id, status=job.status, detail=job.detail, camera_id=request.camera_id, start=request.start,
                   end=request.end, case_id=request.case_id, reason=request.reason, created_at=job.created_at,
                   package_bytes=job.package_bytes, package_sha256=job.package_sha256,
                   masked=bool(request.masks), watermark=request.watermark)  # fmt: skip
