"""Areas, coverage figures and map layers."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from sharpeyes.core.areas import Area, AreaLevel, SiteType
from sharpeyes.services.coverage import CoverageReport, Figures, HistoryDay
from sharpeyes.store.areas import Site


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
    id: int
    name: str
    type: SiteType
    area_code: str
    longitude: float | None
    latitude: float | None

    @classmethod
    def from_site(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            name=site.name,
            type=site.type,
            area_code=site.area_code,
            longitude=site.longitude,
            latitude=site.latitude,
        )


class AreaRef(BaseModel):
    code: str
    name: str
    level: AreaLevel


class GapOut(BaseModel):
    code: str = Field(description="Area code, or site id for site rules.")
    name: str
    cameras: int
    missing: int


class RuleOut(BaseModel):
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
            cameras=f.cameras,
            networked=f.networked,
            networking_rate=f.networking_rate,
            online=f.online if report.online_known else None,
            online_rate=f.online_rate if report.online_known else None,
            planned_hours=f.planned_s / 3600,
            recorded_hours=f.recorded_s / 3600,
            recording_completeness=f.recording_completeness,
            rules=[
                RuleOut(
                    target=r.target,
                    min_cameras=r.min_cameras,
                    total=r.total,
                    compliant=r.compliant,
                    gaps=[GapOut(code=g.code, name=g.name, cameras=g.cameras, missing=g.missing) for g in r.gaps],
                )
                for r in report.rules
            ],
            children=[_child(c.area, c.figures, report.online_known) for c in report.children],
        )


def _child(area: Area, f: Figures, online_known: bool) -> ChildOut:
    return ChildOut(
        code=area.code,
        name=area.name,
        level=area.level,
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
