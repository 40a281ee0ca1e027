"""A camera's health answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from sharpeyes.api.schemas.common import CameraStatusOut
from sharpeyes.services.health import HealthReport
from sharpeyes.services.quality import QualityResult


class StatusEventOut(BaseModel):
    at: datetime
    status: str
    reason: str


class AlertOut(BaseModel):
    kind: str
    raised_at: datetime
    cleared_at: datetime | None
    detail: str


class QualityCheckOut(BaseModel):
    name: str = Field(description="signal, frozen, blur, occlusion, colour_cast, dark or bright.")
    score: float
    passed: bool


class QualityOut(BaseModel):
    at: datetime
    passed: bool
    checks: list[QualityCheckOut]

    @classmethod
    def from_result(cls, result: QualityResult) -> QualityOut:
        checks = [QualityCheckOut(name=c.name, score=round(c.score, 4), passed=c.passed) for c in result.checks]
        return cls(at=result.at, passed=result.passed, checks=checks)


class HealthOut(BaseModel):
    status: CameraStatusOut
    reason: str
    since: datetime | None
    flapping: bool = Field(description="Too many status changes in health.flap_window_s: one alert is open.")
    online_ratio: float = Field(description="Share of the period the camera was online.")
    history: list[StatusEventOut]
    alerts: list[AlertOut]
    quality: QualityOut | None = Field(description="The latest quality diagnosis, when there has been one.")

    @classmethod
    def from_report(cls, report: HealthReport, quality: QualityResult | None) -> HealthOut:
        status = report.status.value if report.status is not None else "not_networked"
        return cls(
            status=status,
            reason=report.reason,
            since=report.since,
            flapping=report.flapping,
            online_ratio=report.online_ratio,
            history=[StatusEventOut(at=e.at, status=e.status, reason=e.reason) for e in report.history],
            alerts=[
                AlertOut(kind=a.kind, raised_at=a.raised_at, cleared_at=a.cleared_at, detail=a.detail)
                for a in report.alerts
            ],
            quality=QualityOut.from_result(quality) if quality is not None else None,
        )
