"""Areas, coverage figures and map layers."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.core.areas import Area, AreaLevel, SiteType
from sharpeyes.services.coverage import CoverageReport, Figures, HistoryDay


class AreaOut(BaseModel):
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON geometry, when known.")

    @classmethod
    def from_area(cls, area: Area) -> AreaOut:
        boundary = json.loads(area.boundary) if area.boundary else None
        return cls(code=area.code, name=area.name, level=area.level, parent_code=area.parent_code, boundary=boundary)


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: SiteType
    area_code: str
    longitude: float | None
    latitude: float | None


class AreaRef(BaseModel):
    code: str
    name: str
    level: AreaLevel


class GapOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="Area code, or site id for site rules.")
    name: str
    cameras: int
    missing: int


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    target: str = Field(description="township, village (area levels) or school, kindergarten (site types).")
    min_cameras: int
    total: int
    compliant: int
    gaps: list[GapOut]


class ChildOut(BaseModel):
    code: str
    name: str
    level: AreaLevel
    cameras: int
    networked: int
    networking_rate: float
    online: int | None
    online_rate: float | None
    recording_completeness: float


class CoverageOut(BaseModel):
    area: AreaRef
    cameras: int = Field(description="Every camera in the area and the areas under it.")
    networked: int = Field(description="Cameras with a source configured (联网).")
    networking_rate: float = Field(description="networked ÷ cameras; 0 when there are no cameras.")
    online: int | None = Field(description="Cameras whose stream is online now; null where not known (offline use).")
    online_rate: float | None = Field(description="online ÷ networked; 0 when none is networked.")
    planned_hours: float = Field(description="Hours of recording the plans asked for in the period.")
    recorded_hours: float = Field(description="Hours recorded in the period.")
    recording_completeness: float = Field(description="recorded ÷ planned; 0 when nothing was planned.")
    rules: list[RuleOut]
    children: list[ChildOut]

    @classmethod
    def from_report(cls, report: CoverageReport) -> CoverageOut:
        f = report.figures
        return cls(
            area=AreaRef(code=report.area.code, name=report.area.name, level=report.area.level),
            **_figure_fields(f, report.online_known),
            planned_hours=f.planned_s / 3600,
            recorded_hours=f.recorded_s / 3600,
            rules=[RuleOut.model_validate(rule) for rule in report.rules],
            children=[
                ChildOut(
                    code=c.area.code,
                    name=c.area.name,
                    level=c.area.level,
                    **_figure_fields(c.figures, report.online_known),
                )
                for c in report.children
            ],
        )


class _FigureFields(TypedDict):
    cameras: int
    networked: int
    networking_rate: float
    online: int | None
    online_rate: float | None
    recording_completeness: float


def _figure_fields(f: Figures, online_known: bool) -> _FigureFields:
    """The figures an area and each of its children answer with; online ones only where sessions are known."""
    return _FigureFields(
        cameras=f.cameras,
        networked=f.networked,
        networking_rate=f.networking_rate,
        online=f.online if online_known else None,
        online_rate=f.online_rate if online_known else None,
        recording_completeness=f.recording_completeness,
    )


class HistoryDayOut(BaseModel):
    date: date
    cameras: int
    networked: int
    networking_rate: float
    online: int
    online_rate: float

    @classmethod
    def from_day(cls, day: HistoryDay) -> HistoryDayOut:
        f = day.figures
        return cls(
            date=day.day,
            cameras=f.cameras,
            networked=f.networked,
            networking_rate=f.networking_rate,
            online=f.online,
            online_rate=f.online_rate,
        )


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class FeatureOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: PointGeometry
    properties: dict[str, str | int | bool | None]


class FeatureCollectionOut(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeatureOut]
    clustered: bool = Field(description="True when the box held more cameras than the limit: features are clusters.")
    total: int = Field(description="Cameras inside the box.")
